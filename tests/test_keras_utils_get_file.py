"""keras.utils.get_file offline: Keras 3's cache layout, hashes and safe extraction; compared
with real Keras on the same cached files (Keras downloads nothing when the cache is good)."""
import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from ember import keras as ek
from ember.keras.utils_file import hash_file
from keras_reference import real_keras

ORIGIN = "https://example.invalid/data/flowers.tgz"


def _tar(path, members):
    """A .tar.gz at ``path``; ``members`` maps names to bytes (or a TarInfo for links)."""
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            if isinstance(content, tarfile.TarInfo):
                archive.addfile(content)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _sha256(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def test_a_cached_file_is_returned_from_cache_dir_and_subdir(tmp_path):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "a.csv").write_text("1,2\n")
    path = ek.utils.get_file("a.csv", origin="https://x.invalid/a.csv", cache_dir=tmp_path)
    assert path == os.path.join(tmp_path, "datasets", "a.csv")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "b.txt").write_text("b")
    sub = ek.utils.get_file("b.txt", "https://x.invalid/b.txt", cache_dir=tmp_path,
                            cache_subdir="mine")
    assert sub == os.path.join(tmp_path, "mine", "b.txt")


def test_keras_home_is_the_default_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "c.bin").write_bytes(b"c")
    assert ek.utils.get_file(origin="https://x.invalid/dir/c.bin") == \
        os.path.join(tmp_path, "datasets", "c.bin")


def test_an_absent_file_names_the_origin_and_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        ek.utils.get_file("d.npz", origin="https://x.invalid/d.npz", cache_dir=tmp_path,
                          file_hash="0" * 64)
    message = str(info.value)
    assert "https://x.invalid/d.npz" in message and "cannot download" in message
    assert os.path.join(tmp_path, "datasets", "d.npz") in message
    assert f"its sha256 must be {'0' * 64}" in message
    with pytest.raises(FileNotFoundError, match=f"its md5 must be {'1' * 32}"):
        ek.utils.get_file("d.npz", origin="https://x.invalid/d.npz", cache_dir=tmp_path,
                          file_hash="1" * 32)


def test_file_hash_sha256_and_md5_are_checked(tmp_path):
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "e.txt").write_bytes(b"hello")
    sha = hashlib.sha256(b"hello").hexdigest()
    md5 = hashlib.md5(b"hello").hexdigest()
    for kwargs in ({"file_hash": sha}, {"file_hash": md5}, {"md5_hash": md5},
                   {"file_hash": sha, "hash_algorithm": "sha256"}):
        assert ek.utils.get_file("e.txt", "https://x.invalid/e.txt", cache_dir=tmp_path,
                                 **kwargs).endswith("e.txt")
    for kwargs in ({"file_hash": "f" * 64}, {"md5_hash": "f" * 32},
                   {"file_hash": md5, "hash_algorithm": "sha256"}):
        with pytest.raises(ValueError, match="does not match file_hash"):
            ek.utils.get_file("e.txt", "https://x.invalid/e.txt", cache_dir=tmp_path, **kwargs)
    with pytest.raises(ValueError, match="hash_algorithm"):
        ek.utils.get_file("e.txt", "https://x.invalid/e.txt", cache_dir=tmp_path,
                          file_hash=sha, hash_algorithm="sha1")


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="origin"):
        ek.utils.get_file("x")
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        ek.utils.get_file(os.path.join("sub", "x"), "https://x.invalid/x", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="cannot parse a file name"):
        ek.utils.get_file(origin="https://x.invalid/", cache_dir=tmp_path)
    with pytest.raises(NotImplementedError, match="force_download"):
        ek.utils.get_file("x", "https://x.invalid/x", cache_dir=tmp_path, force_download=True)
    with pytest.raises(TypeError):
        ek.utils.get_file("x", "https://x.invalid/x", cache_dir=tmp_path, progress=False)


@pytest.mark.parametrize("fname, archive, extracted", [
    (None, "flowers.tgz_archive", "flowers.tgz"),      # name from the origin
    ("flowers", "flowers_archive", "flowers"),         # a name without a suffix
    ("flowers.tar.gz", "flowers.tar.gz", "flowers_extracted"),  # a name with one
])
def test_extract_uses_keras_names_and_unpacks_tar(tmp_path, fname, archive, extracted):
    folder = tmp_path / "datasets"
    folder.mkdir()
    _tar(folder / archive, {"flowers/a/1.txt": b"one", "flowers/b/2.txt": b"two"})
    path = ek.utils.get_file(fname, ORIGIN, extract=True, cache_dir=tmp_path,
                             file_hash=_sha256(folder / archive))
    assert path == os.path.join(folder, extracted)
    with open(os.path.join(path, "flowers", "b", "2.txt"), "rb") as file:
        assert file.read() == b"two"


def test_untar_and_zip(tmp_path):
    folder = tmp_path / "datasets"
    folder.mkdir()
    _tar(folder / "t_archive", {"x.txt": b"x"})
    assert os.path.isfile(os.path.join(
        ek.utils.get_file("t", ORIGIN, untar=True, cache_dir=tmp_path), "x.txt"))
    with zipfile.ZipFile(folder / "z.zip", "w") as archive:
        archive.writestr("inner/y.txt", "y")
    path = ek.utils.get_file("z.zip", ORIGIN, extract=True, cache_dir=tmp_path)
    with open(os.path.join(path, "inner", "y.txt")) as file:
        assert file.read() == "y"
    with pytest.raises(ValueError, match="archive_format"):
        ek.utils.get_file("z.zip", ORIGIN, extract=True, cache_dir=tmp_path,
                          archive_format="rar")
    (folder / "plain.txt").write_text("not an archive")
    with pytest.warns(UserWarning, match="Could not extract archive"):
        ek.utils.get_file("plain.txt", ORIGIN, extract=True, cache_dir=tmp_path)


@pytest.mark.parametrize("members, what", [
    ({"../evil.txt": b"x"}, "outside"),
    ({"/tmp/evil.txt": b"x"}, "outside"),
    ({"ok.txt": b"x", "up": _link("up", "../..")}, "symbolic link"),
    ({"abs": _link("abs", "/etc/passwd")}, "symbolic link"),
    ({"hard": _link("hard", "../secret", tarfile.LNKTYPE)}, "hard link"),
    ({"dev": _link("dev", "", tarfile.CHRTYPE)}, "device"),
])
def test_hostile_tar_members_refuse_the_whole_archive(tmp_path, members, what):
    folder = tmp_path / "datasets"
    folder.mkdir()
    _tar(folder / "h.tgz", members)
    with pytest.raises(ValueError, match=what):
        ek.utils.get_file("h.tgz", ORIGIN, extract=True, cache_dir=tmp_path)
    assert not (tmp_path / "evil.txt").exists()
    assert os.listdir(folder / "h_extracted") == []  # nothing was written


def test_a_zip_escaping_its_folder_is_refused(tmp_path):
    folder = tmp_path / "datasets"
    folder.mkdir()
    with zipfile.ZipFile(folder / "h.zip", "w") as archive:
        archive.writestr("../../evil.txt", "x")
    with pytest.raises(ValueError, match="outside"):
        ek.utils.get_file("h.zip", ORIGIN, extract=True, cache_dir=tmp_path)
    assert not (tmp_path / "evil.txt").exists()


def test_a_decompression_bomb_is_refused_before_writing(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    folder.mkdir()
    _tar(folder / "b.tgz", {"big.bin": b"\0" * 4096})
    from ember.keras import utils_archive
    monkeypatch.setattr(utils_archive.shutil, "disk_usage",
                        lambda path: type("Usage", (), {"free": 1000})())
    with pytest.raises(ValueError, match="decompression bomb"):
        ek.utils.get_file("b.tgz", ORIGIN, extract=True, cache_dir=tmp_path)
    assert not (folder / "b_extracted" / "big.bin").exists()


def test_a_damaged_archive_raises_value_error(tmp_path):
    folder = tmp_path / "datasets"
    folder.mkdir()
    _tar(folder / "d.tgz", {"a.txt": b"a" * 10000})
    data = (folder / "d.tgz").read_bytes()
    (folder / "d.tgz").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="d.tgz"):
        ek.utils.get_file("d.tgz", ORIGIN, extract=True, cache_dir=tmp_path)


@pytest.mark.parametrize("fname, kwargs", [
    ("plain.bin", {}),
    (None, {"extract": True}),
    ("flowers", {"extract": True}),
    ("flowers.tar.gz", {"extract": True}),
    ("flowers", {"untar": True, "cache_subdir": "other"}),
])
def test_same_paths_and_contents_as_real_keras(tmp_path, fname, kwargs):
    keras = real_keras()
    from keras.src.utils import file_utils
    folder = tmp_path / kwargs.get("cache_subdir", "datasets")
    folder.mkdir()
    if kwargs:
        name = (fname if fname and "." in fname else f"{fname or 'flowers.tgz'}_archive")
        _tar(folder / name, {"flowers/a.txt": b"a", "flowers/b/c.txt": b"c"})
    else:
        name = fname
        (folder / name).write_bytes(b"\1\2\3")
    sha = _sha256(folder / name)
    theirs = keras.utils.get_file(fname, ORIGIN, cache_dir=str(tmp_path), file_hash=sha,
                                  **kwargs)
    listing = sorted(os.path.relpath(os.path.join(d, f), theirs)
                     for d, _, files in os.walk(theirs) for f in files) if kwargs else None
    if kwargs:
        import shutil
        shutil.rmtree(theirs)
    ours = ek.utils.get_file(fname, ORIGIN, cache_dir=str(tmp_path), file_hash=sha, **kwargs)
    assert ours == theirs
    if kwargs:
        assert sorted(os.path.relpath(os.path.join(d, f), ours)
                      for d, _, files in os.walk(ours) for f in files) == listing
    for algorithm in ("sha256", "md5"):
        assert hash_file(folder / name, algorithm) == file_utils.hash_file(folder / name,
                                                                            algorithm)
