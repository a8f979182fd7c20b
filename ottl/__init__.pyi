from ottl.frontend import check_group as check_group
from ottl.frontend import resolve_condition as resolve_condition
from ottl.frontend import resolve_statement as resolve_statement
from ottl.lang.errors import OttlCompileError as OttlCompileError
from ottl.lang.errors import OttlError as OttlError
from ottl.lang.errors import OttlSyntaxError as OttlSyntaxError
from ottl.lang.parser import parse_condition as parse_condition
from ottl.lang.parser import parse_statement as parse_statement
from ottl.lang.parser import parse_value_expression as parse_value_expression
from ottl.lang.printer import print_node as print_node
from ottl.run import filter as filter
from ottl.run import transform as transform

__version__: str
