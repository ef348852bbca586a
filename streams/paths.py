"""Where the non-Python parts of the project live (``onnx/`` models, ``clickhouse/`` SQL).

They are folders, not packages (see README), so code finds them by path: next to the packages
in a source checkout or editable install, or under ``TRUEVOICE_HOME`` (the Docker image sets it).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_home() -> Path:
    home = os.environ.get("TRUEVOICE_HOME")
    return Path(home) if home else Path(__file__).resolve().parent.parent
