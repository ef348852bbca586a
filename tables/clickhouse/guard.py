"""Read-only SQL check for analyst queries (``POST /api/sql``, ``truevoice sql``).

This is *input validation*, not the security boundary: the boundary is ClickHouse itself (a
``readonly`` user/handle with grants limited to the TrueVoice database, server-side limits). This
module narrows what reaches it, with a real parser and an allow-list, never a string scanner:

1. The query is parsed with sqlglot (``dialect="clickhouse"``) and the tree is walked. Only one
   statement of an allowed kind is accepted (SELECT/WITH/UNION, DESCRIBE, and a strict token
   grammar for SHOW TABLES / SHOW CREATE TABLE / SHOW COLUMNS, EXISTS TABLE and EXPLAIN of an
   allowed SELECT). Tables must belong to the given database, table functions must be on
   :data:`SAFE_TABLE_FUNCTIONS`, scalar functions that reach outside the database are refused,
   and FORMAT / SETTINGS / INTO OUTFILE clauses are refused.
2. What is returned is the SQL *regenerated from the checked tree* (comments dropped, dollar
   quotes, heredocs and escapes re-emitted as plain quoted literals, unqualified tables qualified
   with the database), so what runs is exactly what was checked. The regenerated text must parse
   back to the same text (a fixed point), else the query is refused.
3. Optionally (``explain_ast``) ClickHouse's own parser dumps the AST of that text and the dump is
   searched for forbidden nodes anywhere (a forbidden function, a table of another database, a
   ``Set`` node from SETTINGS). Identifiers are not escaped in that dump, so it is only used for
   "does a forbidden node appear anywhere" checks, never for structure, and identifiers with
   control characters are refused before it is consulted.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable

import sqlglot
from sqlglot import exp
from sqlglot.dialects.clickhouse import ClickHouse
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError
from sqlglot.tokens import Token, TokenType

from schemas.errors import PermanentError

__all__ = [
    "SAFE_TABLE_FUNCTIONS",
    "FORBIDDEN_FUNCTIONS",
    "UnsafeQueryError",
    "FormatClauseError",
    "check_query",
    "chdb_explain_ast",
]

_DIALECT = "clickhouse"


class UnsafeQueryError(PermanentError):
    """The query is not one an analyst may run through the read-only SQL endpoint."""


class QuerySyntaxError(UnsafeQueryError):
    """The query does not parse: a mistake to fix (HTTP 400), not a refusal (403)."""


class FormatClauseError(UnsafeQueryError):
    """A FORMAT clause: results always come back as columns and rows, so /api/v1/sql answers 400
    (a request to change, not a refusal); the old /api/sql keeps its 403."""


# Table functions allowed in FROM / JOIN / DESCRIBE position. They only generate rows in memory;
# every other table function (file, url, s3, remote, cluster, executable, merge, mysql, input,
# loop, dictionary, view, python, …) reads files, the network, other databases or other tables.
# Names are case-sensitive, as in ClickHouse. ``values`` is re-emitted by sqlglot as ``VALUES (…)``,
# which ClickHouse runs as the same table function.
SAFE_TABLE_FUNCTIONS: frozenset[str] = frozenset({
    "numbers",          # numbers(N) / numbers(start, N): a column of integers
    "numbers_mt",       # the same, multi-threaded
    "zeros",            # zeros(N): N rows of 0
    "zeros_mt",
    "generateSeries",   # generateSeries(start, stop[, step])
    "generate_series",
    "values",           # values('a UInt8, b String', (1, 'x'), …): inline rows
})

# Scalar functions refused anywhere, lower-cased, with why (shown to the analyst).
FORBIDDEN_FUNCTIONS: dict[str, str] = {
    "file": "it reads files on the server",
    "joinget": "it reads another table named in a string",
    "joingetornull": "it reads another table named in a string",
    "hascolumnintable": "it looks into another table named in a string",
    "catboostevaluate": "it loads a model file from the server",
    "modelevaluate": "it loads a model file from the server",
    "naivebayesclassifier": "it loads a model from the server configuration",
    "sleep": "it only holds a server thread",
    "sleepeachrow": "it only holds a server thread",
    "getsetting": "it reads server settings",
    "getsettingordefault": "it reads server settings",
    "getserversetting": "it reads server settings",
    "getmergetreesetting": "it reads server settings",
    "getmacro": "it reads the server configuration",
    "getclienthttpheader": "it reads request headers",
    "addresstoline": "it inspects the server binary",
    "addresstolinewithinlines": "it inspects the server binary",
    "addresstosymbol": "it inspects the server binary",
    "demangle": "it inspects the server binary",
}
# Whole families, by lower-cased prefix: dictGet*, dictHas, dictIsIn, … read dictionaries (other
# tables, files or URLs behind them); filesystemAvailable/Capacity/Unreserved read the server disk.
FORBIDDEN_FUNCTION_PREFIXES: dict[str, str] = {
    "dict": "it reads a dictionary (data outside the database)",
    "filesystem": "it reads the server's disk",
}

# The functional forms of IN: their second argument may name a table, like ``x IN db.t``.
_IN_FUNCTIONS = frozenset({
    "in", "notin", "globalin", "globalnotin", "nullin", "notnullin", "globalnullin", "globalnotnullin",
})

# Table functions of ClickHouse (system.table_functions of chdb 26.9) that are not safe, for the
# second layer's "appears anywhere in ClickHouse's AST" check (lower-cased). The first layer is the
# allow-list; this snapshot only adds depth. ``format`` is left out: it is also a string function.
_ENGINE_TABLE_FUNCTIONS: frozenset[str] = frozenset(name.lower() for name in (
    "SQLStandardValues", "arrowstream", "azureBlobStorage", "azureBlobStorageCluster", "bigquery", "cluster",
    "clusterAllReplicas", "cosn", "deltaLake", "deltaLakeAzure", "deltaLakeAzureCluster", "deltaLakeCluster",
    "deltaLakeLocal", "deltaLakeS3", "deltaLakeS3Cluster", "dictionary", "eval", "executable", "file",
    "fileCluster", "filesystem", "fuzzJSON", "fuzzQuery", "gcs", "generateRandom", "hdfs", "hdfsCluster",
    "hudi", "hudiCluster", "iceberg", "icebergAzure", "icebergAzureCluster", "icebergCluster", "icebergHDFS",
    "icebergHDFSCluster", "icebergLocal", "icebergLocalCluster", "icebergS3", "icebergS3Cluster", "input",
    "jdbc", "loop", "merge", "mergeTreeAnalyzeIndexes", "mergeTreeAnalyzeIndexesUUID",
    "mergeTreeCodecBlockCounts", "mergeTreeIndex", "mergeTreeProjection", "mergeTreeTextIndex", "mongodb",
    "mysql", "null", "odbc", "oss", "paimon", "paimonAzure", "paimonAzureCluster", "paimonCluster",
    "paimonHDFS", "paimonHDFSCluster", "paimonLocal", "paimonS3", "paimonS3Cluster", "postgresql", "primes",
    "prometheusQuery", "prometheusQueryRange", "python", "redis", "remote", "remoteSecure", "s3", "s3Cluster",
    "sqlite", "timeSeriesData", "timeSeriesMetricFamilies", "timeSeriesMetrics", "timeSeriesSamples",
    "timeSeriesSelector", "timeSeriesTags", "url", "urlCluster", "view", "viewExplain", "viewIfPermitted",
    "ytsaurus",
))

_OTHER_DATABASES = ("system.", "information_schema.")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Select clauses an analyst may use; anything else sqlglot parsed (INTO, FORMAT, SETTINGS, locks,
# hints, Hive/Oracle clauses, …) is refused rather than silently dropped by the generator.
_SELECT_ARGS = frozenset({
    "expressions", "from_", "joins", "where", "group", "having", "order", "limit", "offset", "with_",
    "distinct", "prewhere", "sample", "windows", "qualify",
})
_SET_OPERATION_ARGS = frozenset({"this", "expression", "distinct", "with_", "order", "limit", "offset", "side", "kind"})

_EXPLAIN_KINDS = ("AST", "SYNTAX", "PLAN", "PIPELINE", "ESTIMATE", "QUERY TREE")
_SHOW_ALLOWED = "SHOW TABLES, SHOW CREATE TABLE, SHOW COLUMNS"
_KINDS_ALLOWED = "only SELECT (with WITH/UNION), DESCRIBE, SHOW TABLES/CREATE TABLE/COLUMNS, EXISTS TABLE and EXPLAIN queries can be run"
_SETTINGS_MSG = "SETTINGS cannot be set by the caller; limits are set by the server"
_FORMAT_MSG = "a FORMAT clause is not allowed; results are always returned as a table"
_OUTFILE_MSG = "INTO OUTFILE is not allowed"


class _Tokenizer(ClickHouse.Tokenizer):
    """ClickHouse's tokenizer without "commands": SHOW and EXPLAIN are tokenized like any other
    statement instead of swallowing the rest of the text as one raw string."""

    COMMANDS: set[TokenType] = set()


# --------------------------------------------------------------------------- public API


def check_query(sql: str, *, database: str, explain_ast: Callable[[str], list[str]] | None = None) -> str:
    """Return the SQL to run (a canonical text regenerated from the checked tree) or raise UnsafeQueryError.

    ``database`` is the only database whose tables may be read; unqualified table names resolve to
    it (they are qualified in the returned text). ``explain_ast`` (see :func:`chdb_explain_ast`)
    runs ``EXPLAIN AST <sql>`` on ClickHouse and returns the dump's lines; when given, the returned
    text is also checked against ClickHouse's own parse. Its exceptions propagate unchanged.
    """
    if not isinstance(sql, str):
        raise UnsafeQueryError("the query must be text")
    if "\x00" in sql:
        raise UnsafeQueryError("the query contains a NUL byte")
    if not sql.strip():
        raise UnsafeQueryError("empty query")
    try:
        canonical, engine_text = _check_statement(sql, database)
    except RecursionError:
        raise UnsafeQueryError("the query is nested too deeply to be checked") from None
    if explain_ast is not None:
        _check_engine_ast(explain_ast(engine_text), database)
    return canonical


def chdb_explain_ast(client: Any) -> Callable[[str], list[str]]:
    """An ``explain_ast`` for :func:`check_query` from a clickhouse-connect client (chdb or HTTP).

    Read raw: ``client.query`` takes a statement ending in ``LIMIT 0`` for its column probe and
    fails on the rows EXPLAIN returns. The format the client adds shows up as a final
    ``Identifier TabSeparatedRaw`` line; it is dropped.
    """

    def explain(sql: str) -> list[str]:
        lines = client.raw_query("EXPLAIN AST " + sql, fmt="TabSeparatedRaw").decode("utf-8").splitlines()
        if lines and lines[-1].strip() == "Identifier TabSeparatedRaw":
            lines.pop()
        return lines

    return explain


# --------------------------------------------------------------------------- statements


def _check_statement(sql: str, database: str, *, explain_inner: bool = False) -> tuple[str, str]:
    """(canonical text, text for the engine's EXPLAIN AST) of the single statement in ``sql``."""
    try:
        tokens = _Tokenizer().tokenize(sql)
    except TokenError as exc:
        raise UnsafeQueryError(f"the query could not be read: {_first_line(exc)}") from None
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    statements = [s for s in statements if s]
    if not statements:
        raise UnsafeQueryError("empty query")
    if len(statements) > 1:
        raise UnsafeQueryError(f"only one statement can be run at a time, got {len(statements)}")
    stmt = statements[0]
    for a, b in zip(stmt, stmt[1:]):
        if a.token_type == TokenType.INTO and b.text.upper() == "OUTFILE":
            raise UnsafeQueryError(_OUTFILE_MSG)

    first = stmt[0]
    word = first.text.upper()
    if first.token_type in (TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN):
        root = _parse(sql)
        if not isinstance(root, (exp.Select, exp.SetOperation, exp.Subquery)) or not _is_query(root):
            raise UnsafeQueryError(_KINDS_ALLOWED)
        return _check_tree(root, database)
    if explain_inner:
        raise UnsafeQueryError("EXPLAIN can only explain a SELECT query")
    if word in ("DESCRIBE", "DESC"):
        root = _parse(sql)
        if not isinstance(root, exp.Describe):
            raise UnsafeQueryError("DESCRIBE takes a table of the database, an allowed table function or (SELECT …)")
        return _check_tree(root, database)
    if word == "SHOW":
        text = _check_show(stmt, database)
        return text, text
    if word == "EXISTS":
        text = _check_exists(stmt, database)
        return text, text
    if word == "EXPLAIN":
        return _check_explain(sql, stmt, database)
    raise UnsafeQueryError(f"{_KINDS_ALLOWED}; {first.text.upper() or 'this'} is not allowed")


def _parse(sql: str) -> exp.Expression:
    try:
        trees = [t for t in sqlglot.parse(sql, dialect=_DIALECT) if t is not None]
    except ParseError as exc:
        raise QuerySyntaxError(f"the query could not be parsed: {_parse_error(exc)}") from None
    except SqlglotError as exc:
        raise QuerySyntaxError(f"the query could not be parsed: {_first_line(exc)}") from None
    if len(trees) != 1:
        raise UnsafeQueryError(f"only one statement can be run at a time, got {len(trees)}")
    return trees[0]


def _is_query(node: exp.Expression) -> bool:
    while isinstance(node, exp.Subquery):
        node = node.this
    return isinstance(node, (exp.Select, exp.SetOperation))


def _check_explain(sql: str, stmt: list[Token], database: str) -> tuple[str, str]:
    """EXPLAIN [AST | SYNTAX | PLAN | PIPELINE | ESTIMATE | QUERY TREE] <select>, no EXPLAIN settings."""
    i = 1
    kind = ""
    words = [t.text.upper() for t in stmt]
    if len(stmt) > 2 and words[1] == "QUERY" and words[2] == "TREE":
        kind, i = "QUERY TREE", 3
    elif len(stmt) > 1 and words[1] in _EXPLAIN_KINDS and stmt[1].token_type != TokenType.IDENTIFIER:
        kind, i = words[1], 2
    if i >= len(stmt):
        raise UnsafeQueryError("EXPLAIN needs a SELECT query to explain")
    if stmt[i].token_type not in (TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN):
        raise UnsafeQueryError(
            "EXPLAIN can only explain a SELECT query, without EXPLAIN settings; kinds: " + ", ".join(_EXPLAIN_KINDS)
        )
    inner, inner_engine = _check_statement(sql[stmt[i].start: stmt[-1].end + 1], database, explain_inner=True)
    prefix = "EXPLAIN " + (kind + " " if kind else "")
    return prefix + inner, prefix + inner_engine


class _Tokens:
    """A cursor over one statement's tokens for the small SHOW / EXISTS grammars."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str:
        return self.tokens[self.i].text.upper() if self.i < len(self.tokens) else ""

    def accept(self, *words: str) -> str | None:
        if self.i < len(self.tokens) and self.tokens[self.i].token_type != TokenType.IDENTIFIER \
                and self.peek() in words:
            self.i += 1
            return self.tokens[self.i - 1].text.upper()
        return None

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def name(self, what: str) -> str:
        if self.i >= len(self.tokens):
            raise UnsafeQueryError(f"{what} is missing")
        token = self.tokens[self.i]
        if token.token_type not in (TokenType.VAR, TokenType.IDENTIFIER) and not token.text.isidentifier():
            raise UnsafeQueryError(f"expected {what}, got {token.text!r}")
        if token.token_type != TokenType.IDENTIFIER and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token.text):
            raise UnsafeQueryError(f"expected {what}, got {token.text!r}")
        _check_name(token.text)
        self.i += 1
        return token.text

    def table(self, database: str) -> str:
        """[db.]name -> the qualified name as SQL; db must be ``database``."""
        name = self.name("a table name")
        if self.i < len(self.tokens) and self.tokens[self.i].token_type == TokenType.DOT:
            self.i += 1
            db, name = name, self.name("a table name")
            _require_database(db, name, database)
        return f"{_ident(database)}.{_ident(name)}"

    def string(self) -> str:
        if self.i >= len(self.tokens) or self.tokens[self.i].token_type not in (
                TokenType.STRING, TokenType.HEREDOC_STRING, TokenType.RAW_STRING):
            raise UnsafeQueryError("LIKE takes a quoted pattern")
        self.i += 1
        return exp.Literal.string(self.tokens[self.i - 1].text).sql(dialect=_DIALECT)

    def number(self) -> str:
        if self.i >= len(self.tokens) or self.tokens[self.i].token_type != TokenType.NUMBER \
                or not self.tokens[self.i].text.isdigit():
            raise UnsafeQueryError("LIMIT takes a whole number")
        self.i += 1
        return str(int(self.tokens[self.i - 1].text))

    def tail(self) -> str:
        """[[NOT] LIKE|ILIKE 'pattern'] [LIMIT n], then the end of the statement."""
        out = ""
        neg = self.accept("NOT")
        op = self.accept("LIKE", "ILIKE")
        if op:
            out += f" {'NOT ' if neg else ''}{op} {self.string()}"
        elif neg:
            raise UnsafeQueryError("NOT must be followed by LIKE or ILIKE")
        if self.accept("LIMIT"):
            out += f" LIMIT {self.number()}"
        if not self.done():
            raise UnsafeQueryError(f"unexpected {self.tokens[self.i].text!r}; allowed: {_SHOW_ALLOWED} "
                                   "with an optional LIKE 'pattern' and LIMIT n")
        return out


def _check_show(stmt: list[Token], database: str) -> str:
    cur = _Tokens(stmt)
    cur.accept("SHOW")
    if cur.accept("TABLES"):
        if cur.accept("FROM", "IN"):
            _require_database(cur.name("a database name"), None, database)
        return f"SHOW TABLES FROM {_ident(database)}" + cur.tail()
    if cur.accept("CREATE"):
        kind = cur.accept("TABLE", "VIEW") or "TABLE"
        table = cur.table(database)
        if not cur.done():
            raise UnsafeQueryError(f"unexpected {cur.tokens[cur.i].text!r} after SHOW CREATE {kind}")
        return f"SHOW CREATE {kind} {table}"
    if cur.accept("COLUMNS"):
        if not cur.accept("FROM", "IN"):
            raise UnsafeQueryError("SHOW COLUMNS needs FROM <table>")
        table = cur.table(database)
        if cur.accept("FROM", "IN"):
            _require_database(cur.name("a database name"), None, database)
        return f"SHOW COLUMNS FROM {table}" + cur.tail()
    what = cur.peek() or "nothing"
    raise UnsafeQueryError(f"SHOW {what} is not allowed; allowed: {_SHOW_ALLOWED}")


def _check_exists(stmt: list[Token], database: str) -> str:
    cur = _Tokens(stmt)
    cur.accept("EXISTS")
    kind = cur.accept("TABLE", "VIEW") or "TABLE"
    table = cur.table(database)
    if not cur.done():
        raise UnsafeQueryError(f"EXISTS takes one table name, got more: {cur.tokens[cur.i].text!r}")
    return f"EXISTS {kind} {table}"


# --------------------------------------------------------------------------- the tree


def _check_tree(root: exp.Expression, database: str) -> tuple[str, str]:
    skip: set[int] = set()

    if isinstance(root, exp.Describe):
        _check_describe(root, skip)

    for node in list(root.walk()):
        if id(node) in skip:
            continue
        if isinstance(node, exp.Command):
            raise UnsafeQueryError(f"{_KINDS_ALLOWED}; {str(node.this).upper()} is not allowed")
        if isinstance(node, exp.Select):
            _check_args(node, _SELECT_ARGS, "SELECT")
        elif isinstance(node, exp.SetOperation):
            _check_args(node, _SET_OPERATION_ARGS, node.key.upper())
        elif isinstance(node, (exp.Subquery, exp.CTE, exp.With)):
            _check_args(node, frozenset({"this", "alias", "expressions", "recursive", "materialized", "scalar"}),
                        "the subquery")
        elif isinstance(node, (exp.Into, exp.Lock, exp.Hint, exp.SettingsProperty, exp.FileFormatProperty)):
            raise UnsafeQueryError(f"{node.key.upper()} is not allowed")
        elif isinstance(node, (exp.Insert, exp.Create, exp.Drop, exp.Alter, exp.Set, exp.Use, exp.Delete,
                               exp.Update, exp.Merge, exp.Kill, exp.Describe)) and node is not root:
            raise UnsafeQueryError(f"{node.key.upper()} is not allowed inside a query")

        if isinstance(node, (exp.Parameter, exp.SessionParameter)):
            raise UnsafeQueryError(f"{node.sql(dialect=_DIALECT)}: only {{name:Type}} query parameters are allowed")
        if isinstance(node, exp.Placeholder):
            _check_placeholder(node)
        if isinstance(node, exp.Identifier):
            _check_name(node.this)
            if not node.quoted and not _PLAIN_NAME.fullmatch(node.this):
                node.set("quoted", True)  # ClickHouse takes non-ASCII names only quoted
        if isinstance(node, exp.TableAlias) and node.args.get("columns"):
            raise UnsafeQueryError("a table alias cannot take a column list, as in AS t(a, b)")
        if isinstance(node, exp.Table):
            _check_table(node, database)
        elif isinstance(node, exp.Values):
            if not isinstance(node.parent, (exp.From, exp.Join)):
                raise UnsafeQueryError("VALUES can only be used as the table function values(…) in FROM")
        if isinstance(node, exp.Func):
            _check_function(node, database)
        if isinstance(node, exp.In) and node.args.get("field") is not None:
            _check_in_table(node.args["field"], database)

    canonical = _generate(root)
    try:
        again = _generate(sqlglot.parse_one(canonical, dialect=_DIALECT))
    except (SqlglotError, UnsafeQueryError):
        again = None
    if again != canonical:
        raise UnsafeQueryError("the query could not be checked reliably; please simplify it")

    engine_text = canonical
    if root.find(exp.Placeholder):
        # EXPLAIN AST cannot run without the parameters' values; a {name:Type} value parameter
        # cannot add a function or a table, so NULL stands in for it there.
        copy = root.copy()
        for ph in list(copy.find_all(exp.Placeholder)):
            ph.replace(exp.Null())
        engine_text = _generate(copy)
    return canonical, engine_text


def _check_args(node: exp.Expression, allowed: frozenset[str], what: str) -> None:
    for key, value in node.args.items():
        if key in allowed or value is None or value is False or value == []:
            continue
        if key == "settings":
            raise UnsafeQueryError(_SETTINGS_MSG)
        if key == "format":
            raise FormatClauseError(_FORMAT_MSG)
        if key == "into":
            raise UnsafeQueryError("SELECT … INTO is not allowed")
        raise UnsafeQueryError(f"this part of {what} is not allowed: {key.rstrip('_').upper()}")


def _check_describe(node: exp.Describe, skip: set[int]) -> None:
    for key, value in node.args.items():
        if key in ("this", "kind") or value is None or value is False or value == []:
            continue
        if key == "expressions":
            for prop in value:
                if isinstance(prop, exp.SettingsProperty):
                    raise UnsafeQueryError(_SETTINGS_MSG)
                if isinstance(prop, exp.FileFormatProperty):
                    raise FormatClauseError(_FORMAT_MSG)
        raise UnsafeQueryError(f"this part of DESCRIBE is not allowed: {key.upper()}")
    kind = node.args.get("kind")
    if kind and str(kind).upper() != "TABLE":
        raise UnsafeQueryError(f"DESCRIBE {kind} is not allowed")
    target = node.this
    if isinstance(target, exp.Schema):
        # DESCRIBE fn(args): sqlglot reads it as Schema(Table(fn), args).
        table = target.this
        if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier) \
                or table.args.get("db") or table.args.get("catalog"):
            raise UnsafeQueryError("DESCRIBE takes a table of the database, an allowed table function or (SELECT …)")
        _check_table_function(table.this.this)
        skip.add(id(table))
        skip.add(id(table.this))
        _check_name(table.this.this)
    elif not isinstance(target, (exp.Table, exp.Subquery)):
        raise UnsafeQueryError("DESCRIBE takes a table of the database, an allowed table function or (SELECT …)")
    elif isinstance(target, exp.Subquery) and not _is_query(target):
        raise UnsafeQueryError("DESCRIBE (…) takes a SELECT query")


def _check_placeholder(node: exp.Placeholder) -> None:
    kind = node.args.get("kind")
    if not node.name or not isinstance(kind, exp.DataType):
        raise UnsafeQueryError(
            "only {name:Type} query parameters holding a value are allowed (not Identifier, not ? or :name)"
        )
    if "identifier" in kind.sql(dialect=_DIALECT).lower():
        raise UnsafeQueryError("query parameters of type Identifier are not allowed")
    if isinstance(node.parent, exp.Table):
        raise UnsafeQueryError("a query parameter cannot name a table")


def _check_table(node: exp.Table, database: str) -> None:
    target = node.this
    if isinstance(target, exp.Identifier):
        if node.args.get("catalog"):
            raise UnsafeQueryError(f"{node.sql(dialect=_DIALECT)} is not a table of the {database} database")
        db = node.args.get("db")
        if db is not None:
            _require_database(db.name, target.name, database)
        elif not _is_cte_reference(node, target.name):
            node.set("db", exp.to_identifier(database))
        return
    if node.args.get("db") or node.args.get("catalog"):
        raise UnsafeQueryError(f"{node.sql(dialect=_DIALECT)} is not a table of the {database} database")
    if isinstance(target, exp.Anonymous):
        _check_name(target.name)
        _check_table_function(target.name)
    elif isinstance(target, exp.GenerateSeries):
        pass  # generate_series(…)
    elif isinstance(target, exp.Placeholder):
        raise UnsafeQueryError("a query parameter cannot name a table")
    elif isinstance(target, exp.Func):
        _check_table_function(target.sql_name().lower())
    else:
        raise UnsafeQueryError(f"{target.sql(dialect=_DIALECT)} cannot be read as a table")


def _is_cte_reference(node: exp.Expression, name: str) -> bool:
    """Whether a WITH of an enclosing query defines ``name`` (a CTE, or ClickHouse's ``WITH expr AS name``)."""
    parent = node.parent
    while parent is not None:
        with_ = parent.args.get("with_") if isinstance(parent, exp.Query) else None
        if isinstance(with_, exp.With) and any(cte.alias == name for cte in with_.expressions):
            return True
        parent = parent.parent
    return False


def _check_table_function(name: str) -> None:
    if name not in SAFE_TABLE_FUNCTIONS:
        raise UnsafeQueryError(
            f"table function {name}() is not allowed; allowed: {', '.join(sorted(SAFE_TABLE_FUNCTIONS))}"
        )


def _check_function(node: exp.Func, database: str) -> None:
    if isinstance(node, exp.Anonymous):
        names = [node.name]
    else:
        names = [node.sql_name(), node.key]
    for name in names:
        _check_name(name)
        if not name.isascii():
            raise UnsafeQueryError(f"function {name}() is not allowed: function names are plain ASCII")
        reason = _forbidden_reason(name)
        if reason:
            raise UnsafeQueryError(f"function {name}() is not allowed: {reason}")
        if name.lower() in _ENGINE_TABLE_FUNCTIONS:
            _check_table_function(name)
    if isinstance(node, exp.Anonymous) and node.name.lower() in _IN_FUNCTIONS:
        args = node.expressions
        if len(args) > 1:
            _check_in_table(args[1], database)


def _forbidden_reason(name: str) -> str | None:
    low = name.lower()
    if low in FORBIDDEN_FUNCTIONS:
        return FORBIDDEN_FUNCTIONS[low]
    for prefix, reason in FORBIDDEN_FUNCTION_PREFIXES.items():
        if low.startswith(prefix):
            return reason
    return None


def _check_in_table(column: exp.Expression, database: str) -> None:
    """``x IN a.b``: ClickHouse reads ``a.b`` as the table b of database a, and a bare ``x IN b``
    as the table b of the session's current database, so that one is qualified like any table.
    ``x IN fn(…)`` may run fn as a table function, so fn must be an allowed one (or tuple)."""
    if isinstance(column, exp.Func):
        name = column.name if isinstance(column, exp.Anonymous) else column.sql_name().lower()
        if name != "tuple" and not isinstance(column, (exp.Tuple, exp.Struct)):
            _check_table_function(name)
        return
    if not isinstance(column, exp.Column):
        return
    if column.args.get("db") or column.args.get("catalog"):
        raise UnsafeQueryError(f"{column.sql(dialect=_DIALECT)} is not a table of the {database} database")
    table = column.args.get("table")
    if table is not None:
        _require_database(table.name, column.name, database)
    elif isinstance(column.this, exp.Identifier) and not _is_cte_reference(column, column.name):
        column.set("table", exp.to_identifier(database))


def _require_database(db: str, table: str | None, database: str) -> None:
    if db != database:
        what = f"{db}.{table}" if table is not None else db
        raise UnsafeQueryError(f"only tables of the {database} database can be read; {what} is not one")


def _check_name(name: str) -> None:
    """Identifiers, aliases and function names with control or format characters are refused:
    ClickHouse's AST dump does not escape them, and they hide text from people reading the query."""
    for ch in str(name):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise UnsafeQueryError(f"the name {str(name)!r} contains a control character")


def _generate(tree: exp.Expression) -> str:
    try:
        return tree.sql(dialect=_DIALECT, comments=False, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise UnsafeQueryError(f"the query uses something that cannot be checked: {_first_line(exc)}") from None


def _ident(name: str) -> str:
    return exp.to_identifier(name).sql(dialect=_DIALECT)


# --------------------------------------------------------------------------- second layer


_NODE_LINE = re.compile(r"[A-Z][A-Za-z]*(?: |$)")
_FUNCTION_LINE = re.compile(r"Function (.*?)(?: \(alias .*?\))?(?: \(children \d+\))?")


def _check_engine_ast(lines: list[str], database: str) -> None:
    """Search ClickHouse's ``EXPLAIN AST`` dump for forbidden nodes anywhere (never structure)."""
    count = 0
    for raw in lines:
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in str(raw)):
            raise UnsafeQueryError("the query could not be checked: a name contains a control character")
        for line in str(raw).splitlines() or [""]:
            node = line.strip()
            # Every node line is "<indent><NodeKind> …", indented below the first: a line that is
            # not comes from a name with a line break in it (not escaped in the dump).
            if not _NODE_LINE.match(node) or (count and not line.startswith(" ")):
                raise UnsafeQueryError("the query could not be checked: a name contains a line break")
            count += 1
            if node == "Set" or node.startswith("Set "):
                raise UnsafeQueryError(_SETTINGS_MSG)
            m = _FUNCTION_LINE.fullmatch(node)
            if m:
                full = m.group(1)
                for name in {full, full.split(" ")[0]}:
                    low = name.lower()
                    if low in _ENGINE_TABLE_FUNCTIONS:
                        raise UnsafeQueryError(
                            f"table function {name}() is not allowed; allowed: {', '.join(sorted(SAFE_TABLE_FUNCTIONS))}"
                        )
                    reason = _forbidden_reason(name)
                    if reason:
                        raise UnsafeQueryError(f"function {name}() is not allowed: {reason}")
                continue
            if node.startswith("TableIdentifier "):
                name = node[len("TableIdentifier "):].split(" (alias ")[0]
                if "." in name and not name.startswith(database + "."):
                    db, _, table = name.partition(".")
                    _require_database(db, table, database)
            elif node.startswith("Identifier "):
                name = node[len("Identifier "):]
                if name.lower().startswith(_OTHER_DATABASES):
                    db, _, table = name.partition(".")
                    _require_database(db, table, database)


# --------------------------------------------------------------------------- messages


def _parse_error(exc: ParseError) -> str:
    if exc.errors:
        err = exc.errors[0]
        desc = err.get("description") or "syntax error"
        return f"{desc} (line {err.get('line')}, column {err.get('col')})"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    return text.splitlines()[0] if text else type(exc).__name__
