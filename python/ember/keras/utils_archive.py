"""Safe extraction of the tar and zip archives ``keras.utils.get_file`` caches.

Every member is checked before anything is written, and one bad member refuses the whole
archive (Keras skips it with a warning): a path that leaves the destination (absolute, ``..``,
or through a link), a link whose target leaves it, a device or FIFO, or contents that would not
fit on the destination's disk (a decompression bomb) raise ValueError naming the member.
Tar extraction also goes through Python's ``data`` filter as a second line of defence.
"""
from __future__ import annotations

import os
import shutil
import tarfile
import zipfile

# At most this many members: the member table itself is held in memory.
MAX_MEMBERS = 1_000_000


def _inside(base, *parts):
    """The real path of ``base/parts``, or None when it is outside ``base``."""
    path = os.path.realpath(os.path.join(base, *parts))
    return path if os.path.commonpath([path, base]) == base else None


def _check_tar_member(member, base, where):
    name = member.name
    if os.path.isabs(name) or _inside(base, name) is None:
        raise ValueError(f"{where}: member {name!r} would be written outside {base}")
    if member.issym():
        target = _inside(base, os.path.dirname(name), member.linkname)
        if os.path.isabs(member.linkname) or target is None:
            raise ValueError(f"{where}: symbolic link {name!r} -> {member.linkname!r} points "
                             f"outside {base}")
    elif member.islnk():
        if os.path.isabs(member.linkname) or _inside(base, member.linkname) is None:
            raise ValueError(f"{where}: hard link {name!r} -> {member.linkname!r} points "
                             f"outside {base}")
    elif not (member.isfile() or member.isdir()):
        raise ValueError(f"{where}: member {name!r} is a device or FIFO; refusing to extract it")


def _check_zip_member(info, base, where):
    name = info.filename
    if os.path.isabs(name) or name.startswith(("/", "\\")) or _inside(base, name) is None:
        raise ValueError(f"{where}: member {name!r} would be written outside {base}")


def _check_room(total, base, where):
    free = shutil.disk_usage(base).free
    if total > free:
        raise ValueError(f"{where}: the archive unpacks to {total} bytes but {base} has only "
                         f"{free} bytes free (damaged archive or decompression bomb)")


def _open(file_path, archive_format):
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    if isinstance(formats, str):
        formats = [formats]
    for kind in formats or []:
        if kind == "tar":
            if tarfile.is_tarfile(file_path):
                return tarfile.open(file_path)
        elif kind == "zip":
            if zipfile.is_zipfile(file_path):
                return zipfile.ZipFile(file_path)
        else:
            raise ValueError(f"keras.utils.get_file: archive_format must be 'auto', 'tar', "
                             f"'zip', a list of those, or None. Received: {archive_format!r}")
    return None


def extract_archive(file_path, path, archive_format="auto"):
    """Extracts the tar or zip archive ``file_path`` into ``path``; False when it is neither
    (of the formats asked for), True once extracted. Raises ValueError before writing anything
    when a member is unsafe."""
    where = f"keras.utils.get_file: extracting {file_path}"
    try:
        archive = _open(file_path, archive_format)
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{where}: not a readable archive: {error}") from error
    if archive is None:
        return False
    os.makedirs(path, exist_ok=True)
    base = os.path.realpath(path)
    with archive:
        try:
            if isinstance(archive, zipfile.ZipFile):
                members = archive.infolist()
                _check_count(len(members), where)
                for info in members:
                    _check_zip_member(info, base, where)
                _check_room(sum(info.file_size for info in members), base, where)
                archive.extractall(base, members=members)
            else:
                members = []
                for member in archive:  # streamed, so a huge member table stops early
                    members.append(member)
                    _check_count(len(members), where)
                    _check_tar_member(member, base, where)
                _check_room(sum(m.size for m in members if m.isfile()), base, where)
                archive.extractall(base, members=members, filter="data")
        except (tarfile.TarError, zipfile.BadZipFile, EOFError) as error:
            raise ValueError(f"{where}: damaged archive: {error}") from error
    return True


def _check_count(count, where):
    if count > MAX_MEMBERS:
        raise ValueError(f"{where}: more than {MAX_MEMBERS} members; refusing to extract it")
