"""`reconciler demo`: the whole loop on an embedded AWS emulator, no account and no network.

It starts moto in process (with the project's extension for the operations moto lacks), creates
a small stack modelled on the dev example with deliberate drift, then plans, applies and plans
again, printing each step as a person would run it.
"""
