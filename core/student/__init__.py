"""The student side: loading, LoRA training, inference and serving.

Importing any of it first quiets transformers (its verbosity is read when it is imported)."""

from germinate.student.load import quiet

quiet()
