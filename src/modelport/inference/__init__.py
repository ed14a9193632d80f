"""The one path from raw input to prediction, and packing/loading artifacts around it."""
