"""Videos read back with imageio's ffmpeg reader: what a viewer would get from the file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import imageio.v2 as imageio
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]


def _frames(reader: Any) -> Iterable[Frame]:
    # imageio's stub says Reader.__iter__ returns an Array; it yields one frame array per frame.
    return cast("Iterable[Frame]", reader)


def frame_count(path: Path) -> int:
    """Frames in an mp4, decoded one by one."""
    reader = imageio.get_reader(str(path), format="FFMPEG")
    try:
        return sum(1 for _ in _frames(reader))
    finally:
        reader.close()


def decode(path: Path) -> tuple[int, tuple[int, ...], float]:
    """Frame count, (height, width, channels) and fps of an mp4."""
    reader = imageio.get_reader(str(path), format="FFMPEG")
    try:
        count = 0
        shape: tuple[int, ...] = (0, 0, 0)
        for frame in _frames(reader):
            count += 1
            shape = frame.shape
        return count, shape, float(reader.get_meta_data()["fps"])
    finally:
        reader.close()
