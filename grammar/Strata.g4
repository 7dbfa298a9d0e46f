// The strata DSL: subsystems, their versions, and each version's schema changes.
//
// The grammar is deliberately permissive where a precise rule would only give a worse
// message: operations that take `fill` or `using`, literal kinds, comparison operators and
// so on are checked by the compiler (compiler/Sema*), which can say what is wrong and where.
// SQL expressions are not parsed here: they are balanced parenthesised token runs whose
// source text the compiler captures and checks with PostgreSQL's own parser.
//
// Newlines carry no meaning; a column definition ends where the next one starts, which is
// why multi-word type names (double precision, timestamp with time zone) are spelled out.
grammar Strata;

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

file : subsystemDecl* EOF ;

subsystemDecl : SUBSYSTEM name=ident LBRACE subsystemItem* RBRACE ;

subsystemItem
  : BASELINE STRING                                            # baselineItem
  | requiresClause                                             # requiresItem
  | versionDecl                                                # versionItem
  ;

requiresClause : REQUIRES requirement (COMMA requirement)* ;
requirement    : ident versionBound* ;
versionBound   : op=(OP | EQ) STRING ;

// Labels (x=, x+=) are fields the parser fills as it goes: the builder reads them instead of
// the accessors (`statement()`, `AFTER()`), which search every child with a dynamic_cast.
versionDecl
  : VERSION versions+=STRING (after=AFTER versions+=STRING (COMMA versions+=STRING)*)?
    requirements=requiresClause? LBRACE statements+=statement* RBRACE ;

statement : unsafe=unsafeMarker? statementBody ;
unsafeMarker : UNSAFE STRING? ;

statementBody
  : TABLE ident LBRACE tableElement* RBRACE                    # tableStmt
  | ALTER TABLE ident LBRACE actions+=alterAction* RBRACE        # alterTableStmt
  | ALTER TABLE ident alterAction                              # alterTableOneStmt
  | DROP TABLE ident                                           # dropTableStmt
  | RENAME TABLE ident TO ident                                # renameTableStmt
  | ENUM ident LBRACE (enumLabel (COMMA enumLabel)* COMMA?)? RBRACE   # enumStmt
  | ALTER ENUM ident ADD VALUE enumLabel (pos=(BEFORE | AFTER) enumLabel)?  # alterEnumStmt
  | DROP ENUM ident                                            # dropEnumStmt
  | BACKFILL ident SET assignment (COMMA assignment)* (WHERE expr)? (BATCH INT)?  # backfillStmt
  | SQL ident? (UP TRIPLE_STRING)? (FINISH TRIPLE_STRING)?     # sqlStmt
  ;

enumLabel : SQ_STRING | ident ;
assignment : ident op=(EQ | OP) expr ;

tableElement
  : columnDef
  | tableConstraint
  | indexDef
  ;

columnDef : ident typeName columnOptions+=columnOption* ;

columnOption
  : NOT NULL_KW                                                   # notNullOption
  | NULL_KW                                                       # nullOption
  | DEFAULT expr                                               # defaultOption
  | FILL expr                                                  # fillOption
  | WAS STRING                                                 # wasOption
  | GENERATED (ALWAYS | BY DEFAULT) AS IDENTITY                # identityOption
  | (CONSTRAINT ident)? columnConstraint                       # constraintOption
  ;

columnConstraint
  : PRIMARY KEY                                                # pkColumnConstraint
  | UNIQUE                                                     # uniqueColumnConstraint
  | CHECK expr                                                 # checkColumnConstraint
  | REFERENCES ident (LPAREN ident RPAREN)? fkAction*          # fkColumnConstraint
  ;

tableConstraint : (CONSTRAINT ident)? tableConstraintBody ;

tableConstraintBody
  : PRIMARY KEY identList                                      # pkTableConstraint
  | UNIQUE identList                                           # uniqueTableConstraint
  | CHECK expr                                                 # checkTableConstraint
  | FOREIGN KEY identList REFERENCES ident identList? fkAction*  # fkTableConstraint
  ;

fkAction : ON event=(DELETE | UPDATE) refAction ;
refAction : CASCADE | RESTRICT | NO ACTION | SET NULL_KW | SET DEFAULT ;

indexDef
  : INDEX ident? UNIQUE? (USING ident)? LPAREN indexElem (COMMA indexElem)* RPAREN
    (WHERE expr)? ;

indexElem : indexExpr opclass? order=(ASC | DESC)? (NULLS nulls=(FIRST | LAST))? ;
// Not `ident`: a soft keyword would take `asc` or `desc` for an operator class name.
opclass : IDENT | STRING ;
indexExpr
  : ident exprArgs                                             # funcIndexExpr
  | ident                                                      # columnIndexExpr
  | exprArgs                                                   # parenIndexExpr
  ;

alterAction : unsafe=unsafeMarker? alterActionBody ;

alterActionBody
  : ADD COLUMN? columnDef                                      # addColumnAction
  | DROP COLUMN ident                                          # dropColumnAction
  | RENAME COLUMN ident TO ident                               # renameColumnAction
  | ALTER COLUMN? ident alterColumnChange alterColumnTail*     # alterColumnAction
  | ADD indexDef                                               # addIndexAction
  | DROP INDEX ident                                           # dropIndexAction
  | RENAME INDEX ident TO ident                                # renameIndexAction
  | ADD tableConstraint                                        # addConstraintAction
  | DROP CONSTRAINT ident                                      # dropConstraintAction
  | DROP PRIMARY KEY                                           # dropPrimaryKeyAction
  | RENAME CONSTRAINT ident TO ident                           # renameConstraintAction
  | RENAME TO ident                                            # renameTableAction
  ;

alterColumnChange
  : (SET DATA?)? TYPE typeName                                # setTypeChange
  | SET NOT NULL_KW                                               # setNotNullChange
  | DROP NOT NULL_KW                                              # dropNotNullChange
  | SET DEFAULT expr                                           # setDefaultChange
  | DROP DEFAULT                                               # dropDefaultChange
  ;

alterColumnTail
  : USING expr                                                 # usingTail
  | FILL expr                                                  # fillTail
  ;

// Types. Multi-word SQL type names are spelled out so that a column definition can end
// without a separator; everything else is a (possibly schema-qualified) name.
typeName : baseType mods=typeMods? bounds+=arrayBounds* ;
baseType
  : DOUBLE PRECISION                                           # doublePrecisionType
  | CHARACTER VARYING                                          # charVaryingType
  | BIT VARYING                                                # bitVaryingType
  | (TIMESTAMP | TIME) typeMods? (WITH | WITHOUT) TIME ZONE    # zonedType
  | ident (DOT ident)?                                         # namedType
  ;
typeMods : LPAREN INT (COMMA INT)* RPAREN ;
arrayBounds : LBRACK INT? RBRACK ;

identList : LPAREN ident (COMMA ident)* RPAREN ;

// An SQL expression: a parenthesised balanced token run, or a lone literal.
expr
  : exprArgs                                                   # parenExpr
  | OP? (INT | DECIMAL)                                        # numberExpr
  | SQ_STRING                                                  # stringExpr
  | STRING                                                     # dqStringExpr
  | (TRUE_KW | FALSE_KW | NULL_KW)                                      # keywordExpr
  ;
exprArgs : LPAREN exprToken* RPAREN ;
exprToken : exprArgs | ~(LPAREN | RPAREN | LBRACE | RBRACE) ;

// Identifiers: words that are keywords only in one position stay usable as names.
ident : IDENT | quoted=STRING | softKeyword ;
softKeyword
  : SUBSYSTEM | BASELINE | REQUIRES | VERSION | AFTER | BEFORE | TABLE | ALTER | ADD | DROP
  | RENAME | TO | COLUMN | TYPE | SET | DATA | FILL | WAS | ENUM | VALUE | BACKFILL
  | SQL | UP | FINISH | UNSAFE | KEY | ACTION | CASCADE | RESTRICT | NO | BATCH | FIRST | LAST
  | ASC | DESC | NULLS | DOUBLE | PRECISION | CHARACTER | VARYING | BIT | TIMESTAMP | TIME
  | WITH | WITHOUT | ZONE | GENERATED | ALWAYS | BY | IDENTITY | DELETE | UPDATE | USING | AS
  ;

// ---------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------

// Reserved: these start table elements or column options, so a column may not be named
// after them without quotes (as in SQL). `default` is reserved in SQL too; as a name it
// would make `default now()` (parentheses forgotten) a column "default" of type "now".
NOT        : 'not' ;
DEFAULT    : 'default' ;
NULL_KW       : 'null' ;
PRIMARY    : 'primary' ;
UNIQUE     : 'unique' ;
CHECK      : 'check' ;
REFERENCES : 'references' ;
FOREIGN    : 'foreign' ;
CONSTRAINT : 'constraint' ;
INDEX      : 'index' ;
ON         : 'on' ;
WHERE      : 'where' ;
TRUE_KW       : 'true' ;
FALSE_KW      : 'false' ;

// Soft keywords (see `softKeyword`).
SUBSYSTEM : 'subsystem' ;
BASELINE  : 'baseline' ;
REQUIRES  : 'requires' ;
VERSION   : 'version' ;
AFTER     : 'after' ;
BEFORE    : 'before' ;
TABLE     : 'table' ;
ALTER     : 'alter' ;
ADD       : 'add' ;
DROP      : 'drop' ;
RENAME    : 'rename' ;
TO        : 'to' ;
COLUMN    : 'column' ;
TYPE      : 'type' ;
SET       : 'set' ;
DATA      : 'data' ;
FILL      : 'fill' ;
WAS       : 'was' ;
ENUM      : 'enum' ;
VALUE     : 'value' ;
BACKFILL  : 'backfill' ;
SQL       : 'sql' ;
UP        : 'up' ;
FINISH    : 'finish' ;
UNSAFE    : 'unsafe' ;
KEY       : 'key' ;
ACTION    : 'action' ;
CASCADE   : 'cascade' ;
RESTRICT  : 'restrict' ;
NO        : 'no' ;
BATCH     : 'batch' ;
FIRST     : 'first' ;
LAST      : 'last' ;
ASC       : 'asc' ;
DESC      : 'desc' ;
NULLS     : 'nulls' ;
DOUBLE    : 'double' ;
PRECISION : 'precision' ;
CHARACTER : 'character' ;
VARYING   : 'varying' ;
BIT       : 'bit' ;
TIMESTAMP : 'timestamp' ;
TIME      : 'time' ;
WITH      : 'with' ;
WITHOUT   : 'without' ;
ZONE      : 'zone' ;
GENERATED : 'generated' ;
ALWAYS    : 'always' ;
BY        : 'by' ;
IDENTITY  : 'identity' ;
DELETE    : 'delete' ;
UPDATE    : 'update' ;
USING     : 'using' ;
AS        : 'as' ;

LBRACE : '{' ;
RBRACE : '}' ;
LPAREN : '(' ;
RPAREN : ')' ;
LBRACK : '[' ;
RBRACK : ']' ;
COMMA  : ',' ;
DOT    : '.' ;
SEMI   : ';' ;
COLON  : ':' ;
EQ     : '=' ;

// A """…""" block is matched up to its end or to the end of the file; the compiler
// reports one that reaches the end unterminated (a lexer error would point nowhere useful).
TRIPLE_STRING : '"""' .*? ('"""' | EOF) ;
// A double-quoted word is a version string or a quoted identifier, by position.
STRING        : '"' (~["\r\n] | '""')* '"' ;
UNTERMINATED_STRING : '"' (~["\r\n] | '""')* ;
// SQL literals, only meaningful inside expressions.
SQ_STRING     : [eEbBxXuU]? '\'' (~'\'' | '\'\'')* '\'' ;
UNTERMINATED_SQ_STRING : [eEbBxXuU]? '\'' (~'\'' | '\'\'')* EOF ;
DOLLAR_STRING : '$$' .*? '$$' ;
PARAM         : '$' [0-9]+ ;

DECIMAL : [0-9]+ '.' [0-9]* ([eE] [+-]? [0-9]+)? | '.' [0-9]+ ([eE] [+-]? [0-9]+)? | [0-9]+ [eE] [+-]? [0-9]+ ;
INT     : [0-9]+ ;
IDENT   : [\p{L}_] [\p{L}\p{N}_$]* ;
// Comments come before OP: `//` alone, `////` or `/**/` match both at the same length, and
// the first rule listed wins.
LINE_COMMENT  : ('//' | '--') ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? ('*/' | EOF) -> channel(HIDDEN) ;
// SQL operators; `=` alone is EQ (it is listed first and matches the same length).
OP      : [+\-*/<>=~!@#%^&|`?]+ ;

WS            : [ \t\r\n\f]+ -> skip ;

// Anything else is reported by the compiler with its position.
ERROR_CHAR : . ;
