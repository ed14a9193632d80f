"""Protocol codecs: request bytes → raw input for ``LoadedModel.validate``; Prediction → response bytes."""

from __future__ import annotations
