"""The student side: loading, LoRA training, inference and serving."""
