"""SummaryWriter.add_embedding: files for TensorBoard's projector, laid out as PyTorch lays
them out: <log_dir>/<step:05d>/<tag>/tensors.tsv (+ metadata.tsv, sprite.png) and an entry in
<log_dir>/projector_config.pbtxt. A mixin of SummaryWriter."""
from __future__ import annotations

import io
import math
import os

import numpy as np

from ._summaries import to_numpy


def _encode(tag: str) -> str:
    """The tag as one directory name: '%', '/' and '\\' percent-encoded."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def _make_sprite(label_img: np.ndarray, save_path: str) -> None:
    """The thumbnails (N, C, H, W) tiled ceil(sqrt(N)) to a row, on a square canvas padded at
    the bottom (the projector reads the sprite row by row), saved as sprite.png."""
    from PIL import Image
    from tensorboardX.utils import make_grid

    grid = make_grid(label_img, ncols=math.ceil(label_img.shape[0] ** 0.5))  # CHW, 3 channels
    side = grid.shape[2]
    square = np.zeros((side, side, 3))
    square[:grid.shape[1]] = grid.transpose(1, 2, 0)
    with io.BytesIO() as buf:
        Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(buf, format="PNG")
        data = buf.getvalue()
    with open(os.path.join(save_path, "sprite.png"), "wb") as f:
        f.write(data)


class Embeddings:
    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None,
                      tag: str = "default", metadata_header=None) -> None:
        """mat (N, D) points; metadata N labels (or rows under metadata_header); label_img
        (N, C, H, W) thumbnails shown in place of the points."""
        from tensorboardX.embedding import append_pbtxt, make_mat, make_tsv

        mat = to_numpy(mat)
        if mat.ndim != 2:
            raise ValueError(f"add_embedding: mat should be 2-D (points, features), got shape "
                             f"{mat.shape}")
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{_encode(tag)}"
        log_dir = self._get_file_writer().get_logdir()
        save_path = os.path.join(log_dir, subdir)
        if os.path.isfile(save_path):
            raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
        os.makedirs(save_path, exist_ok=True)
        if metadata is not None:
            metadata = list(to_numpy(metadata)) if not isinstance(metadata, list) else metadata
            if len(metadata) != mat.shape[0]:
                raise ValueError(f"add_embedding: {len(metadata)} labels for {mat.shape[0]} "
                                 "points")
            make_tsv(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            label_img = to_numpy(label_img)
            if label_img.shape[0] != mat.shape[0]:
                raise ValueError(f"add_embedding: {label_img.shape[0]} images for "
                                 f"{mat.shape[0]} points")
            _make_sprite(label_img, save_path)
        make_mat(mat, save_path)
        append_pbtxt(metadata, label_img, log_dir, subdir, global_step, tag)
