// Validates Kubernetes manifests offline against the API schemas, as strictly as an API server
// with strict field validation (kubectl's default) would:
//   1. kubernetes-models' JSON-schema validators (types, required fields, enums, formats);
//   2. no unknown field anywhere: the schema validators accept extra fields, so every field is
//      also looked up in the same packages' generated type declarations (.d.ts), which list
//      each object's fields. A typo like `readinesProbe` fails here as it would on apply.
// Usage: node validate_manifests.mjs FILE.yaml... (multi-document YAML; "-" reads stdin).
// Prints one line per object and exits 1 when any object is invalid.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, "node_modules");

// apiVersion -> [package, folder] of the models.
function modelLocation(apiVersion) {
    if (apiVersion === "v1") return ["kubernetes-models", "v1"];
    if (apiVersion.startsWith("monitoring.coreos.com/"))
        return ["@kubernetes-models/prometheus-operator", apiVersion];
    return ["kubernetes-models", apiVersion];
}

// ---------------------------------------------------------------- .d.ts reader
// The generated declarations use a small subset of TypeScript: imports, `export interface`,
// `export type`, `export { A as B }`, object literal types, Array<T>, unions and literals.

function tokenize(text) {
    const tokens = [];
    const re = /\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_$][\w$]*)|(-?\d+(?:\.\d+)?)|(=>|[{}<>\[\]():;?|,=.&*])/y;
    let m;
    while (re.lastIndex < text.length) {
        const at = re.lastIndex;
        m = re.exec(text);
        if (!m) throw new Error(`cannot read declaration at offset ${at}: ${text.slice(at, at + 40)}`);
        if (m[1]) tokens.push({ t: "str", v: m[1].slice(1, -1) });
        else if (m[2]) tokens.push({ t: "id", v: m[2] });
        else if (m[3]) tokens.push({ t: "num", v: m[3] });
        else if (m[4]) tokens.push({ t: "p", v: m[4] });
    }
    return tokens;
}

class Parser {
    constructor(tokens) {
        this.tokens = tokens;
        this.i = 0;
    }
    peek(v) {
        const tok = this.tokens[this.i];
        return tok && (v === undefined || tok.v === v) ? tok : null;
    }
    take(v) {
        const tok = this.tokens[this.i];
        if (!tok || (v !== undefined && tok.v !== v))
            throw new Error(`expected ${v} at token ${this.i}, got ${tok && tok.v}`);
        this.i++;
        return tok;
    }
    type() {
        const members = [this.postfix()];
        while (this.peek("|") || this.peek("&")) {
            this.take();
            members.push(this.postfix());
        }
        return members.length === 1 ? members[0] : { kind: "union", of: members };
    }
    postfix() {
        let t = this.primary();
        while (this.peek("[")) {
            this.take("[");
            if (this.peek("]")) {
                this.take("]");
                t = { kind: "array", of: t };
            } else {  // indexed access (X["kind"]): a leaf
                this.type();
                this.take("]");
                t = { kind: "leaf" };
            }
        }
        return t;
    }
    primary() {
        const tok = this.take();
        if (tok.t === "str" || tok.t === "num") return { kind: "leaf" };
        if (tok.v === "(") {
            const t = this.type();
            this.take(")");
            return t;
        }
        if (tok.v === "{") return this.objectBody();
        if (tok.t !== "id") throw new Error(`unexpected ${tok.v} in a type`);
        let name = tok.v;
        while (this.peek(".")) {
            this.take(".");
            name += "." + this.take().v;
        }
        let args = [];
        if (this.peek("<")) {
            this.take("<");
            args.push(this.type());
            while (this.peek(",")) {
                this.take(",");
                args.push(this.type());
            }
            this.take(">");
        }
        if (name === "Array" || name === "ReadonlyArray") return { kind: "array", of: args[0] };
        if (name === "Record") return { kind: "object", props: new Map(), index: args[1] };
        if (["string", "number", "boolean", "any", "unknown", "object", "null", "undefined",
             "true", "false", "never", "Date"].includes(name))
            return { kind: "leaf" };
        return { kind: "ref", name };
    }
    // "{ A, B as C }" of an import or export: [[A, A], [B, C]].
    nameList() {
        const names = [];
        this.take("{");
        while (!this.peek("}")) {
            const name = this.take().v;
            let renamed = name;
            if (this.peek("as")) {
                this.take("as");
                renamed = this.take().v;
            }
            names.push([name, renamed]);
            if (this.peek(",")) this.take(",");
        }
        this.take("}");
        return names;
    }
    // After "{": fields up to the matching "}".
    objectBody() {
        const props = new Map();
        let index = null;
        while (!this.peek("}")) {
            if (this.peek("[")) {  // [key: string]: T
                this.take("[");
                this.take();
                this.take(":");
                this.type();
                this.take("]");
                this.take(":");
                index = this.type();
            } else {
                const name = this.take().v;
                if (this.peek("?")) this.take("?");
                this.take(":");
                props.set(name, this.type());
            }
            if (this.peek(";") || this.peek(",")) this.take();
        }
        this.take("}");
        return { kind: "object", props, index };
    }
}

const declarationFiles = new Map();  // path -> { imports, types, aliases }

function readDeclarations(file) {
    if (declarationFiles.has(file)) return declarationFiles.get(file);
    const tokens = tokenize(fs.readFileSync(file, "utf8"));
    const decl = { file, imports: new Map(), types: new Map(), aliases: new Map() };
    const p = new Parser(tokens);
    while (p.peek()) {
        const tok = p.take();
        if (tok.v === "import" && p.peek("{")) {
            const names = p.nameList();
            p.take("from");
            const from = p.take().v;
            for (const [name, local] of names) decl.imports.set(local, { name, from });
        } else if (tok.v === "interface") {
            const name = p.take().v;
            while (!p.peek("{")) p.take();  // extends ...
            p.take("{");
            decl.types.set(name, p.objectBody());
        } else if (tok.v === "type" && p.peek() && p.peek().t === "id" &&
                   p.tokens[p.i + 1] && p.tokens[p.i + 1].v === "=") {
            const name = p.take().v;
            p.take("=");
            decl.types.set(name, p.type());
        } else if (tok.v === "export" && p.peek("{")) {
            for (const [name, exported] of p.nameList()) decl.aliases.set(exported, name);
        } else if (tok.v === "class") {
            // Classes repeat the interface; skip their body.
            while (!p.peek("{")) p.take();
            let depth = 0;
            do {
                const t = p.take().v;
                if (t === "{") depth++;
                if (t === "}") depth--;
            } while (depth > 0);
        }
    }
    declarationFiles.set(file, decl);
    return decl;
}

function resolveModule(from, spec) {
    const base = spec.startsWith(".") ? path.resolve(path.dirname(from), spec)
                                      : path.join(modules, spec);
    for (const candidate of [base + ".d.ts", path.join(base, "index.d.ts")])
        if (fs.existsSync(candidate)) return candidate;
    return null;
}

// The type named `name` as seen from declaration file `file`, or null when unknown.
function lookup(file, name, seen = 0) {
    if (seen > 20) return null;
    const decl = readDeclarations(file);
    const local = decl.aliases.get(name) || name;
    if (decl.types.has(local)) return { type: decl.types.get(local), file };
    const imported = decl.imports.get(local);
    if (imported) {
        const target = resolveModule(file, imported.from);
        if (target) return lookup(target, imported.name, seen + 1);
    }
    return null;
}

// Unknown fields of `value` against `type` (from `file`), appended to `errors`.
function unknownFields(value, type, file, where, errors) {
    if (!type || value === null || value === undefined) return;
    switch (type.kind) {
        case "leaf":
            return;
        case "ref": {
            if (["TypeMeta", "ModelData"].includes(type.name)) return;
            const found = lookup(file, type.name);
            if (!found) return;  // no declaration: nothing to compare against
            return unknownFields(value, found.type, found.file, where, errors);
        }
        case "array":
            if (Array.isArray(value))
                value.forEach((v, i) => unknownFields(v, type.of, file, `${where}/${i}`, errors));
            return;
        case "union": {
            // IntOrString and friends are leaves; for object unions, pass if any member passes.
            let best = null;
            for (const member of type.of) {
                const e = [];
                unknownFields(value, member, file, where, e);
                if (e.length === 0) return;
                if (best === null || e.length < best.length) best = e;
            }
            errors.push(...best);
            return;
        }
        case "object":
            if (typeof value !== "object" || Array.isArray(value)) return;
            for (const [key, v] of Object.entries(value)) {
                if (type.props.has(key)) unknownFields(v, type.props.get(key), file, `${where}/${key}`, errors);
                else if (type.index) unknownFields(v, type.index, file, `${where}/${key}`, errors);
                else errors.push(`${where}/${key}: unknown field "${key}"`);
            }
            return;
    }
}

// ---------------------------------------------------------------- validation
async function validateObject(obj) {
    if (!obj || typeof obj !== "object" || !obj.apiVersion || !obj.kind)
        return ["not a Kubernetes object (no apiVersion and kind)"];
    const [pkg, folder] = modelLocation(obj.apiVersion);
    const dts = path.join(modules, pkg, folder, `${obj.kind}.d.ts`);
    if (!fs.existsSync(dts)) return [`no schema for ${obj.apiVersion} ${obj.kind} (in ${pkg})`];
    const module = await import(`${pkg}/${folder}/${obj.kind}`);
    const Model = module[obj.kind];
    const errors = [];
    if (obj.kind === "Secret" && obj.data) {
        // Long values may be wrapped; the API server's base64 decoder skips line breaks.
        obj.data = Object.fromEntries(
            Object.entries(obj.data).map(([k, v]) => [k, typeof v === "string" ? v.replace(/[\r\n]/g, "") : v]));
    }
    try {
        new Model(obj).validate();
    } catch (e) {
        errors.push(String(e.message || e));
    }
    const top = lookup(dts, `I${obj.kind}`);
    if (!top) return [...errors, `no declaration I${obj.kind} in ${dts}`];
    unknownFields(obj, top.type, top.file, "", errors);
    return errors;
}

async function main() {
    const files = process.argv.slice(2);
    if (files.length === 0) {
        console.error("usage: node validate_manifests.mjs FILE.yaml... (- for stdin)");
        process.exit(2);
    }
    let bad = 0;
    let count = 0;
    for (const file of files) {
        const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
        for (const doc of parseAllDocuments(text)) {
            if (doc.errors.length) {
                console.log(`INVALID ${file}: YAML: ${doc.errors[0].message}`);
                bad++;
                continue;
            }
            const obj = doc.toJS();
            if (obj === null) continue;
            count++;
            const name = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
            const errors = await validateObject(obj);
            if (errors.length) {
                bad++;
                for (const e of errors) console.log(`INVALID ${file}: ${name}: ${e}`);
            } else {
                console.log(`valid ${file}: ${obj.apiVersion} ${name}`);
            }
        }
    }
    console.log(`${count} object(s), ${bad} invalid`);
    process.exit(bad || count === 0 ? 1 : 0);
}

main();
