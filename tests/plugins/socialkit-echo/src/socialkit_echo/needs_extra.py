"""An adapter module whose optional dependency is missing: the registry must name the extra."""

import socialkit_fancy_dependency_that_does_not_exist  # noqa: F401
