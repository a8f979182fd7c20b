# Typed use of the public API; mypy must accept it (tests/test_typing.py).
import ottl
import ottl.limits as limits
from ottl.lang.ast import Statement

size: int = limits.validate_batch_size(limits.DEFAULT_BATCH_SIZE)
timeout: float = limits.validate_timeout(limits.DEFAULT_TIMEOUT)
tree: Statement = ottl.parse_statement('set(span.name, "x")')
text: str = ottl.print_node(tree)
