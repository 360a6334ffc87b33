// Parse and type-check KQL queries with Microsoft's Kusto language service (@kusto/language-service-next, the
// Kusto.Language library compiled to JavaScript), against table schemas given by the caller, and hand back what a
// test needs from each query's syntax tree. No query is run here: there is no engine, only the parser and binder.
//
// stdin:  {"tables": {"AppTraces": "(TimeGenerated:datetime, Message:string, ...)", ...},
//          "queries": [{"name": "...", "text": "..."}]}
// stdout: [{"name", "diagnostics": [{severity, code, message, start, length}],
//           "bindings": {"t": "remediation.reconcile "},    // variables bound to parse_json(substring(Message, strlen(prefix)))
//           "reads": [["t", "outcome"], ["t", "actor", "upn"]],  // member paths read from those variables
//           "filters": [<expression>, ...],                    // every `where` condition, in the order written
//           "operators": ["FilterOperator", "ExtendOperator", ...]}]
// An expression is {"op", "left", "right"} | {"op": "in", "left", "list"} | {"call", "args"} | {"path": [...]} |
// {"name"} | {"literal"} | {"unsupported": <syntax kind>, "text"}.

'use strict';
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next');

const K = Kusto.Language;

function kindOf(node) {
  return Bridge.getTypeName(node).replace('Kusto.Language.Syntax.', '').replace(/`.*$/, '');
}

function children(node) {
  const out = [];
  for (let i = 0; i < node.ChildCount; i++) {
    const child = node.GetChild(i);
    if (child) out.push(child);
  }
  return out;
}

function descendants(node, kind, found = []) {
  if (kindOf(node) === kind) found.push(node);
  for (const child of children(node)) descendants(child, kind, found);
  return found;
}

function listElements(list) {
  // A SyntaxList of SeparatedElement<Expression>: the expressions, separators dropped.
  return children(list).map((separated) => separated.Element);
}

function literal(node) {
  // Numbers come as JavaScript numbers or Bridge's Int64 (toNumber); timespans and the like as their text.
  const value = node.LiteralValue;
  if (value === undefined) return node.ToString().trim();
  if (value !== null && typeof value === 'object') {
    return typeof value.toNumber === 'function' ? value.toNumber() : String(value);
  }
  return value;
}

function path(node) {
  // t.actor.upn and t["actor"]["upn"] alike: the base name, then each member.
  const kind = kindOf(node);
  if (kind === 'NameReference') return [node.SimpleName];
  if (kind === 'PathExpression') {
    const base = path(node.Expression);
    return base && kindOf(node.Selector) === 'NameReference' ? [...base, node.Selector.SimpleName] : null;
  }
  if (kind === 'ElementExpression') {
    const base = path(node.Expression);
    const inner = node.Selector.Expression;
    return base && inner && kindOf(inner) === 'LiteralExpression' ? [...base, String(literal(inner))] : null;
  }
  return null;
}

function expression(node) {
  const kind = kindOf(node);
  switch (kind) {
    case 'ParenthesizedExpression':
      return expression(node.Expression);
    case 'LiteralExpression':
      return { literal: literal(node) };
    case 'NameReference':
      return { name: node.SimpleName };
    case 'PathExpression':
    case 'ElementExpression': {
      const p = path(node);
      return p ? { path: p } : { unsupported: kind, text: node.ToString().trim() };
    }
    case 'FunctionCallExpression':
      return { call: node.Name.SimpleName, args: listElements(node.ArgumentList.Expressions).map(expression) };
    case 'BinaryExpression':
      return { op: node.Operator.Text.toLowerCase(), left: expression(node.Left), right: expression(node.Right) };
    case 'InExpression':
      return { op: node.Operator.Text.toLowerCase(), left: expression(node.Left),
               list: listElements(node.Right.Expressions).map(expression) };
    default:
      return { unsupported: kind, text: node.ToString().trim() };
  }
}

function bindings(root) {
  // extend <name> = parse_json(substring(Message, strlen("<prefix>")))
  const found = {};
  for (const named of descendants(root, 'SimpleNamedExpression')) {
    const value = expression(named.Expression);
    const inner = value.call === 'parse_json' && value.args[0];
    const cut = inner && inner.call === 'substring' && inner.args[1];
    if (cut && cut.call === 'strlen' && cut.args[0].literal !== undefined && inner.args[0].name === 'Message') {
      found[named.Name.SimpleName] = cut.args[0].literal;
    }
  }
  return found;
}

function reads(root, bound) {
  const out = [];
  for (const kind of ['PathExpression', 'ElementExpression']) {
    for (const node of descendants(root, kind)) {
      const p = path(node);
      if (p && p.length > 1 && Object.prototype.hasOwnProperty.call(bound, p[0])) out.push(p);
    }
  }
  // Keep only the longest path of each chain (t.actor.upn also contains t.actor).
  const keys = new Set(out.map((p) => p.join('.')));
  return out.filter((p) => ![...keys].some((k) => k !== p.join('.') && k.startsWith(p.join('.') + '.')))
    .filter((p, i, all) => all.findIndex((q) => q.join('.') === p.join('.')) === i);
}

function operators(node, found = []) {
  // The query operators (where, extend, summarize…), in the order written.
  for (const child of children(node)) {
    operators(child, found);
    if (kindOf(child).endsWith('Operator')) found.push(kindOf(child));
  }
  return found;
}

function check(globals, query) {
  const code = K.KustoCode.ParseAndAnalyze(query.text, globals);
  const diagnostics = [];
  const found = code.GetDiagnostics();
  for (let i = 0; i < found.Count; i++) {
    const d = found.getItem(i);
    diagnostics.push({ severity: d.Severity, code: d.Code, message: d.Message, start: d.Start, length: d.Length });
  }
  const root = code.Syntax;
  const bound = bindings(root);
  return {
    name: query.name, diagnostics, bindings: bound, reads: reads(root, bound),
    filters: descendants(root, 'FilterOperator').map((where) => expression(where.Condition)),
    operators: operators(root),
  };
}

function main() {
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const tables = Object.entries(input.tables).map(
    ([name, schema]) => K.Symbols.TableSymbol.From(schema).WithName(name));
  const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor('workspace', tables));
  process.stdout.write(JSON.stringify(input.queries.map((q) => check(globals, q))));
}

main();
