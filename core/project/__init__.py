"""A project folder: task.yaml and seeds loaded and checked, its schema, its errors, `germinate init`."""
