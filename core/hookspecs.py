"""Every hook a germinate plugin can implement, in one place.

A plugin is a module (or object) registered through the ``germinate`` entry-point group whose
functions carry ``@germinate.hookimpl``. Pluggy matches arguments by name, so an implementation
may accept any subset of a hook's arguments; new arguments never break old plugins.

The ``register_*`` hooks hand the plugin a ``register`` callback instead of asking for a return
value, so one plugin can contribute several objects and core never needs to know their classes.
CONTRIBUTING.md has one section per hook, headed by its exact signature; a test keeps the two in
step.
"""

import pluggy

hookspec = pluggy.HookspecMarker("germinate")
#: the marker plugins put on their hook implementations (``from germinate import hookimpl``)
hookimpl = pluggy.HookimplMarker("germinate")

# -- What a plugin provides ----------------------------------------------------------------------


@hookspec
def register_task_types(register):
    """Register task families: call ``register(task_type)`` with a :class:`germinate.tasks.base.TaskType`
    instance for each family this plugin provides (record schema, checks, prompts, metric)."""


@hookspec
def register_validators(register):
    """Register validation-cascade steps: call ``register(validator)`` with a
    :class:`germinate.validate.base.Validator` instance for each one (name, default order, config schema,
    ``prepare`` and ``check``)."""


@hookspec
def register_teachers(register):
    """Register teacher backends: call ``register(teacher)`` with a :class:`germinate.teachers.base.Teacher`
    instance for each backend (name, config schema, and how to build a client from its config)."""


@hookspec
def register_commands(cli):
    """Add subcommands to the ``germinate`` command line: ``cli`` is the root ``click.Group``; use
    ``@cli.command()`` as usual. Keep heavy imports inside the command bodies."""


# -- Hooks that adjust what others provide -------------------------------------------------------


@hookspec
def schema_rules(task_type, config):
    """Return extra JSON Schemas that every generated record of ``task_type`` (a TaskType) must
    satisfy under the project ``config`` (the parsed task.yaml), or None. The schema validator
    enforces the union of the task type's own rules and every plugin's answer here."""
