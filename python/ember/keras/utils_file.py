"""keras.utils.get_file for an offline library: Keras 3's cache layout and arguments, but ember
never downloads. A cached file is returned (its ``file_hash`` checked, an archive extracted);
an absent one raises FileNotFoundError naming the origin and exactly where to put the file."""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.parse
import warnings

from .utils_archive import extract_archive


def keras_home():
    """``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` when the home folder is read-only),
    read per call so tests and users can point it elsewhere."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    home = os.path.expanduser("~")
    return os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")


def _hasher(algorithm, file_hash):
    if algorithm == "sha256" or (algorithm == "auto" and len(file_hash) == 64):
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()
    raise ValueError("keras.utils.get_file: hash_algorithm must be 'auto', 'sha256' or 'md5'. "
                     f"Received: hash_algorithm={algorithm!r}")


def hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """The hex digest of a file (``algorithm`` 'sha256', 'md5' or a hashlib object)."""
    hasher = _hasher(algorithm, "") if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """True when the file's sha256 (a 64-digit ``file_hash`` under 'auto') or md5 matches."""
    return hash_file(fpath, _hasher(algorithm, str(file_hash)), chunk_size) == str(file_hash)


def _cache_folder(cache_dir, cache_subdir):
    base = os.path.expanduser(keras_home() if cache_dir is None else os.fspath(cache_dir))
    if not os.access(base, os.W_OK):  # as Keras: a read-only cache falls back to /tmp
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(),
                            ".keras")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    return folder


def _targets(fname, origin, folder, extract):
    """(where the file is cached, where it is extracted or None), named as Keras names them."""
    provided = fname is not None and fname != ""
    if not provided:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"keras.utils.get_file: cannot parse a file name from origin "
                             f"{origin!r}; pass fname")
    elif os.sep in fname:
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify "
                         f"the file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")
    if not extract:
        return os.path.join(folder, fname), None
    if provided and "." in fname:
        stem = fname[:fname.find(".")]
        return os.path.join(folder, fname), os.path.join(folder, f"{stem}_extracted")
    return os.path.join(folder, f"{fname}_archive"), os.path.join(folder, fname)


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """The path of ``fname`` in Keras' cache (``cache_dir``/``cache_subdir``, by default
    ``~/.keras/datasets``), or of the folder it was extracted to with ``extract=True`` (tar or
    zip, unpacked safely). ``file_hash`` (sha256 or md5) is checked. ember never downloads: an
    absent file raises FileNotFoundError saying where to put the file fetched from ``origin``.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if force_download:
        raise NotImplementedError(
            f"keras.utils.get_file: force_download=True asks for a fresh download of {origin}, "
            "and ember never downloads. Replace the cached file yourself and call get_file "
            "without force_download.")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if file_hash is not None:
        _hasher(hash_algorithm, str(file_hash))  # an unknown algorithm fails before any I/O
    fname = os.fspath(fname) if isinstance(fname, os.PathLike) else fname
    extract = bool(extract or untar)
    folder = _cache_folder(cache_dir, cache_subdir)
    target, extraction_dir = _targets(fname, origin, folder, extract)
    if not os.path.isfile(target):
        hint = "" if file_hash is None else \
            f" (its {_hasher(hash_algorithm, str(file_hash)).name} must be {file_hash})"
        raise FileNotFoundError(
            f"keras.utils.get_file: {target} is not in the cache, and ember cannot download. "
            f"Fetch {origin} yourself and save it as {target}{hint}.")
    if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        raise ValueError(
            f"keras.utils.get_file: the cached {target} does not match file_hash {file_hash} "
            f"(incomplete, outdated or altered). ember cannot download it again: replace it "
            f"with a good copy of {origin}.")
    if extract:
        if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
            warnings.warn("Could not extract archive.", stacklevel=2)  # as Keras does
        return extraction_dir
    return target
