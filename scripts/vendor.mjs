// Build the front-end libraries the pages use into static/vendor (git-ignored), at `make install`:
// Bootstrap's CSS compiled from its Sass sources with only the components listed in
// scripts/bootstrap.scss, and the built files of htmx, Tom Select and IMask copied as they are.
// No Bootstrap JavaScript: static/js/app.js opens the menu and closes alerts itself.
// The app hashes these files at start (dashboard/assets.py) and compresses them once.
import { cpSync, mkdirSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "static", "vendor");
const files = {
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
  "tom-select/dist/js/tom-select.complete.min.js": "tom-select/tom-select.complete.min.js",
  "tom-select/dist/css/tom-select.bootstrap5.min.css": "tom-select/tom-select.bootstrap5.min.css",
  "imask/dist/imask.min.js": "imask/imask.min.js",
};
rmSync(vendor, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const source = join(modules, from);
  if (!existsSync(source)) {
    console.error(`missing ${source}: run npm ci first`);
    process.exit(1);
  }
  mkdirSync(dirname(join(vendor, to)), { recursive: true });
  cpSync(source, join(vendor, to));
}

const css = sass.compile(join(root, "scripts", "bootstrap.scss"), {
  loadPaths: [join(modules, "bootstrap", "scss")],
  style: "compressed",
  // Bootstrap 5.3's sources use @import and global functions that newer Sass warns about.
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin", "color-functions"],
});
mkdirSync(join(vendor, "bootstrap"), { recursive: true });
writeFileSync(join(vendor, "bootstrap", "bootstrap.css"), css.css);
console.log(
  `static/vendor: ${Object.keys(files).length} files copied, bootstrap.css ` +
    `${Math.round(css.css.length / 1024)} KB from Sass`,
);
