"""Activities: thin adapters between the workflows and the outside world (providers and the read model).

Each step activity does its outside effect and moves the read model in the same call, so a case step costs
one activity, not two (see docs/design.md).
"""
