"""Output files written whole or not at all, so that nothing a user kept is lost to a failed run.

Each file is written under a temporary name in its own folder and renamed over the old one only once
complete: a failure, a full disk or kill -9 leaves the previous file as it was (a rename within one folder
is atomic). A run into a folder (`FolderRun`) renames its files only after all of them are complete, its
manifest last; it holds a lock file meanwhile, so that two runs cannot mix their files.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Callable, Collection
from pathlib import Path
from types import TracebackType

from ..errors import OutputError

TEMP_SUFFIX = ".jk500-tmp"  # .NAME.PID.RANDOM.jk500-tmp: the PID says whose it is, for the sweep of dead runs'
LOCK_NAME = ".jk500-rules.lock"
OUTPUTS_KEY = "outputs"  # the manifest's list of the files its run wrote


def replace_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write `path` by calling `write` on a temporary file beside it, then rename that over `path`.

    On any failure (an exception, KeyboardInterrupt) the temporary file is removed and `path` is untouched.
    A symbolic link is followed, as writing in place did: its target is replaced. What is not a regular
    file (`/dev/stdout`, a named pipe) is written to as it is: a device is never replaced by a file.
    """
    if path.exists() and not path.is_file() and not path.is_dir():
        write(path)
        return
    target = path.resolve() if path.is_symlink() else path
    temp = _new_temp(target)
    try:
        write(temp)
        _sync(temp)
        os.replace(temp, target)
    except BaseException:
        _remove(temp)
        raise
    _sync_folder(target.parent)


class FolderRun:
    """One run's files in one folder: locked, written under temporary names, put in place together.

    `temp(name)` gives the path to write `name` to; `commit(write_manifest)` renames every file into place,
    removes the files the previous manifest lists that this run did not write (only names in `known`:
    anything else in the folder is left alone), and puts the manifest in place last. Leaving the `with`
    block without a commit removes the temporary files; the folder keeps its previous outputs.
    """

    def __init__(self, folder: Path, manifest: str, known: Collection[str]):
        self.folder = folder
        self.manifest = manifest
        self.known = set(known)
        self._temps: dict[str, Path] = {}
        self._lock_fd: int | None = None
        self.writing = folder  # the file being written (the last one given a temporary name), for errors

    def __enter__(self) -> FolderRun:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock(self.folder / LOCK_NAME, self.folder)
        _sweep_dead_runs(self.folder)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for temp in self._temps.values():
            _remove(temp)
        self._temps.clear()
        if self._lock_fd is not None:
            _remove(self.folder / LOCK_NAME)  # before the unlock: a waiting run then sees the path changed
            os.close(self._lock_fd)
            self._lock_fd = None

    def temp(self, name: str) -> Path:
        """The temporary path `name` is written to; it becomes `folder/name` at the commit."""
        self._temps[name] = path = _new_temp(self.folder / name)
        self.writing = self.folder / name
        return path

    def commit(self, write_manifest: Callable[[Path, list[str]], None]) -> list[Path]:
        """Put the run's files in place, drop the previous run's others, then the manifest (listing them).

        Should a rename fail midway, the files already renamed are put back as they were (from hard
        links made beforehand): the folder holds the previous run's files or this run's, not a mix.
        """
        names = [name for name in self._temps if name != self.manifest]
        stale = sorted((_listed(self.folder / self.manifest) & self.known) - set(names) - {self.manifest})
        write_manifest(self.temp(self.manifest), names)
        for temp in self._temps.values():
            _sync(temp)
        backups = {name: backup for name in (*names, self.manifest) if (backup := self._backup(name))}
        moved: list[str] = []  # placed, or (stale) moved aside, in order
        try:
            for name in names:
                os.replace(self._temps[name], self.folder / name)
                moved.append(name)
            for name in stale:
                if (self.folder / name).is_file():
                    backups[name] = aside = _temp_name(self.folder / name)
                    os.replace(self.folder / name, aside)
                    moved.append(name)
            os.replace(self._temps[self.manifest], self.folder / self.manifest)
        except BaseException:
            for name in reversed(moved):
                if name in backups:
                    os.replace(backups.pop(name), self.folder / name)
                else:
                    _remove(self.folder / name)
            raise
        finally:
            for backup in backups.values():
                _remove(backup)
        self._temps.clear()
        _sync_folder(self.folder)
        return [self.folder / name for name in (self.manifest, *names)]

    def _backup(self, name: str) -> Path | None:
        """A hard link to the folder's current `name`, to put it back with; None if there is no such file."""
        target = self.folder / name
        if not target.is_file():
            return None
        backup = _temp_name(target)
        try:
            os.link(target, backup, follow_symlinks=False)
        except OSError:  # a file system without hard links: this file cannot be put back
            return None
        return backup


def named(filename: object, default: str) -> str:
    """The path to name in an error: the file a temporary one stands for, else `default` when there is none."""
    if not filename:
        return default
    path = Path(os.fsdecode(filename))  # type: ignore[arg-type]
    if path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX):
        return str(path.with_name(path.name[1:].removesuffix(TEMP_SUFFIX).rsplit(".", 2)[0]))
    return str(path)


def manifest_text(document: dict[str, object], names: list[str]) -> str:
    """The manifest as JSON: the document, then the list of the run's files."""
    return json.dumps({**document, OUTPUTS_KEY: names}, indent=2, ensure_ascii=False) + "\n"


def _listed(manifest: Path) -> set[str]:
    """The file names an earlier run's manifest lists; none when it is missing or not one of ours."""
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    names = document.get(OUTPUTS_KEY) if isinstance(document, dict) else None
    if not isinstance(names, list):
        return set()
    return {name for name in names if isinstance(name, str) and name == Path(name).name}


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _new_temp(target: Path) -> Path:
    """An empty file beside `target`, with the mode `target` has (else what a new file gets)."""
    while True:
        temp = _temp_name(target)
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            if target.is_file():
                os.fchmod(fd, stat.S_IMODE(target.stat().st_mode))
        finally:
            os.close(fd)
        return temp


def _lock(path: Path, folder: Path) -> int:
    """Hold `path` locked (flock: the system releases it when its process dies, however it dies)."""
    import fcntl  # POSIX only, as the rest of the tool's process handling

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise OutputError(str(path), f"another jk500-rules run{who} is writing its reports into {folder}; "
                              "wait for it to end, or write elsewhere") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:  # its holder removed it as we opened it: take the next one
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            return fd
        os.close(fd)


def _sweep_dead_runs(folder: Path) -> None:
    """Remove the temporary files of runs that died (kill -9) before they could remove them."""
    for path in folder.glob(f".*{TEMP_SUFFIX}"):
        pid = path.name.removesuffix(TEMP_SUFFIX).rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            _remove(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _sync(path: Path) -> None:
    """The file's bytes on disk before it is renamed into place (a rename must not outrun its data)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder; the renames are made all the same
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
