"""The examples render classic-control envs for failure videos: headless, through pygame's dummy
video driver, unless the user chose another."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
