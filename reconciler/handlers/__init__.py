"""The Lambda handlers: the reconcile state machine's states and the triggers that start runs."""
