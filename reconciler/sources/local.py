"""A local folder of manifests, read as it is on disk (the CLI's source)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from reconciler.errors import PermanentError
from reconciler.sources import Checkout


@dataclass(frozen=True)
class LocalSource:
    """A folder containing the environment folders.

    A folder has no revisions: `checkout` returns it whatever revision is asked, and says so with
    `revision=None` rather than claim a revision it did not check.
    """

    root: str

    def checkout(self, revision: str | None) -> Checkout:
        """The folder itself; `PermanentError` when it does not exist."""
        if not os.path.isdir(self.root):
            raise PermanentError(f"manifest folder {self.root} does not exist")
        return Checkout(root=self.root, revision=None)

    def newest(self) -> None:
        """A folder has no revisions."""
        return
