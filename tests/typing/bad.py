# Misuse that mypy must reject: limits are Final, validators return int.
import ottl.limits as limits

limits.DEFAULT_BATCH_SIZE = 5
name: str = limits.validate_batch_size(100)
