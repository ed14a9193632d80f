"""Shared vocabulary every layer speaks: signatures, frames, validation, plugin registries."""
