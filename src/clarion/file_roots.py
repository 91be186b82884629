"""The file-roots rule: which local paths an app's jobs and streams may name.

CLARION_FILE_ROOTS lists directories; each is partitioned per app. Import jobs, export jobs
and event streams of app A may name ``file://`` paths only under ``ROOT/A/`` (A being the
application id) of some root, after every link is resolved. So one app can never read what
another app's exports or streams wrote, nor write where another app reads, whichever key
asks. The app's folder itself must not be a link: ``ROOT/A`` is compared as written, not as
resolved. The CLI, run by the operator on their own files, is not bound by the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import SplitResult, unquote

from clarion.errors import BadRequest


class FileRoots:
    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = tuple(Path(root).resolve() for root in roots)

    def folders(self, app_id: str) -> list[Path]:
        """Where ``app_id`` may read and write: its own folder in every root."""
        return [root / app_id for root in self.roots]

    def contains(self, path: Path, app_id: str) -> Path | None:
        """``path`` with links resolved, if it lies in one of the app's folders."""
        resolved = path.resolve()
        allowed = any(resolved.is_relative_to(folder) for folder in self.folders(app_id))
        return resolved if allowed else None

    def local_path(self, url: SplitResult, member: str, app_id: str) -> Path:
        """The resolved path a ``file://`` URL names, if the app may use it; BadRequest naming
        ``member`` and what is wrong otherwise."""
        if url.netloc not in ("", "localhost") or url.query or url.fragment:
            raise BadRequest(
                f"{member} {url.geturl()!r}: write a file URL as file:///ABSOLUTE/PATH"
            )
        text = unquote(url.path)
        if "\x00" in text:
            raise BadRequest(f"{member} {url.geturl()!r}: the path holds a NUL character")
        path = Path(text)
        if not path.is_absolute():
            raise BadRequest(f"{member} {url.geturl()!r} is not an absolute path")
        if not self.roots:
            raise BadRequest(
                f"{member}: file:// locations are disabled on this server: no directory is "
                "allowed for them (setting CLARION_FILE_ROOTS)"
            )
        try:
            resolved = self.contains(path, app_id)
        except (OSError, RuntimeError) as error:
            raise BadRequest(f"{member} {url.geturl()!r} cannot be resolved: {error}") from None
        if resolved is None:
            allowed = ", ".join(f"{folder}/" for folder in self.folders(app_id))
            raise BadRequest(
                f"{member} {url.geturl()!r} lies outside this application's file folders: "
                f"{allowed} (each app may use only its own folder, named by its id, under "
                "every CLARION_FILE_ROOTS directory)"
            )
        return resolved
