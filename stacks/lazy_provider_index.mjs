// Loaded into jsii's Node runtime through NODE_OPTIONS by modules/__init__.py (see there).
import Module from "node:module";
import { readFileSync } from "node:fs";
import { isAbsolute, sep } from "node:path";
const EXPORT = /^exports\.([\w$]+) = require\("(\.\/[\w.\/-]+)"\);$/;
const INERT = [
  /^$/,
  /^"use strict";$/,
  /^(\/\/|\/\*|\*)/,
  /^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);$/,
  /^exports\.[\w$]+( = exports\.[\w$]+)* = void 0;$/,
];
const MAIN = `${sep}lib${sep}index.js`;
const load = Module.prototype.require;
function lazyIndex(file, parent) {
  const req = Module.createRequire(file);
  if (req.cache[file]) return req.cache[file].exports;
  const entries = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = EXPORT.exec(line.trim());
    if (m) entries.push(m);
    else if (!INERT.some((inert) => inert.test(line.trim()))) return undefined;
  }
  if (entries.length < 100) return undefined;
  const mod = new Module(file, parent);
  mod.filename = file;
  mod.loaded = true;
  Object.defineProperty(mod.exports, "__esModule", { value: true });
  for (const [, name, rel] of entries) {
    Object.defineProperty(mod.exports, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = req(rel);
        const own = { value, enumerable: true, writable: true, configurable: true };
        Object.defineProperty(mod.exports, name, own);
        return value;
      },
    });
  }
  req.cache[file] = mod;
  return mod.exports;
}
Module.prototype.require = function require(id) {
  if (typeof id === "string" && isAbsolute(id) && id.endsWith(MAIN)) {
    const lazy = lazyIndex(id, this);
    if (lazy !== undefined) return lazy;
  }
  return load.call(this, id);
};
