// ESLint rule: no import cycles between the workspace's own modules, type-only imports included.
// eslint-plugin-import-x's no-cycle skips `import type`, and both cycles this rule was written for
// ran through types (a shared type kept in the module that imports its users). A type cycle is still
// a knot: neither module can be understood, moved or split without the other.
// It reads the import graph from the TypeScript program that type-aware linting already builds.
import { relative } from "node:path";
import ts from "typescript";

/** Per program: file name -> the workspace files it imports (memoised; programs are rebuilt on change). */
const edgesByProgram = new WeakMap();

function ownFile(fileName) {
  return !fileName.includes("/node_modules/") && !fileName.endsWith(".d.ts");
}

function importsOf(program, fileName) {
  let edges = edgesByProgram.get(program);
  if (!edges) edgesByProgram.set(program, (edges = new Map()));
  const known = edges.get(fileName);
  if (known) return known;
  const found = new Map(); // target file -> the specifier node, for the report
  edges.set(fileName, found);
  const source = program.getSourceFile(fileName);
  if (!source) return found;
  const checker = program.getTypeChecker();
  const visit = (node) => {
    const specifier =
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier
        ? node.moduleSpecifier
        : ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)
          ? node.moduleReference.expression
          : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
            ? node.arguments[0]
            : ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)
              ? node.argument.literal
              : undefined;
    if (specifier && ts.isStringLiteralLike(specifier)) {
      const target = checker.getSymbolAtLocation(specifier)?.valueDeclaration;
      if (target && ts.isSourceFile(target) && ownFile(target.fileName) && !found.has(target.fileName)) {
        found.set(target.fileName, specifier);
      }
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(source, visit);
  return found;
}

/** The shortest path of imports from `from` back to `to`, or null. Breadth-first, so the report is the tightest loop. */
function pathBack(program, from, to) {
  const previous = new Map([[from, null]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i];
    for (const next of importsOf(program, file).keys()) {
      if (next === to) {
        const path = [file];
        for (let step = previous.get(file); step; step = previous.get(step)) path.unshift(step);
        return path;
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return null;
}

export const noImportCycle = {
  meta: {
    type: "problem",
    docs: { description: "Forbid import cycles between the workspace's own modules, type-only imports included." },
    messages: { cycle: "Import cycle: {{path}}. Move what both sides need into a module of its own." },
    schema: [],
  },
  create(context) {
    const program = context.sourceCode.parserServices?.program;
    if (!program) throw new Error("no-import-cycle needs type information (parserOptions.projectService)");
    const fileName = program.getSourceFile(context.physicalFilename)?.fileName;
    if (!fileName || !ownFile(fileName)) return {};
    return {
      "Program:exit"() {
        const root = program.getCurrentDirectory();
        const short = (file) => relative(root, file);
        for (const [target, specifier] of importsOf(program, fileName)) {
          const back = target === fileName ? [] : pathBack(program, target, fileName);
          if (!back) continue;
          const node = context.sourceCode.getNodeByRangeIndex(specifier.getStart()) ?? context.sourceCode.ast;
          context.report({ node, messageId: "cycle", data: { path: [fileName, ...back, fileName].map(short).join(" -> ") } });
        }
      },
    };
  },
};
