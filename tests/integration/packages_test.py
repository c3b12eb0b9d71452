#!/usr/bin/python3
"""Every Python module and program the project's scripts use must come from
the packages deploy/setup.sh installs (or what those depend on), so the two
README commands work on a new Debian 12 machine, not just on this one.

What it checks, against the dpkg database of this machine (after setup):
  * the closure of setup.sh's PACKAGES over Depends/Pre-Depends (not
    Recommends: setup installs with --no-install-recommends), plus the
    Essential and Priority: required packages every Debian system has;
  * every module imported by the project's Python files and by the Python
    embedded in its shell scripts is imported in a /usr/bin/python3 that
    cannot see files of packages outside that closure (transitive imports
    count: what `import pymodbus.client` pulls in);
  * every program in command position in the shell scripts that resolves
    on the system PATH is mapped to its package (dpkg's file lists).
A module or program from a package outside the closure (or from no package
at all, e.g. pip) fails the test, naming the file that uses it.

Usage: packages_test.py REPO_ROOT
"""
import ast
import os
import re
import shutil
import subprocess
import sys

# Programs a script installs for itself (bench/e2e.sh brings the baseline and
# Suricata from the archive only when it runs).
SELF_INSTALLED = {"dpdk-testpmd": "bench/e2e.sh", "suricata": "bench/e2e.sh"}
# Scripts call programs by these directories (and /usr/bin/python3 by path).
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SKIP_DIRS = {".git", "build", "__pycache__"}
BASH_WORDS = set(
    subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True,
                   text=True).stdout.split())


def repo_files(root, suffixes=(), shebang=None):
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith("build")]
        for f in files:
            path = os.path.join(d, f)
            if f.endswith(suffixes):
                yield path
            elif shebang and "." not in f:
                try:
                    with open(path, "rb") as fh:
                        if shebang in fh.readline():
                            yield path
                except OSError:
                    pass


def setup_packages(root):
    text = open(os.path.join(root, "deploy/setup.sh")).read()
    body = re.search(r"PACKAGES=\((.*?)\n\)", text, re.S).group(1)
    return {w for line in body.splitlines() for w in line.split("#")[0].split()}


def installed_db():
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\t${Essential}|${Priority}\t"
         "${Depends}\t${Pre-Depends}\t${Provides}\n"],
        capture_output=True, text=True, check=True).stdout
    db, provides, essential = {}, {}, set()
    for line in out.splitlines():
        name, status, ess, dep, pre, prov = (line.split("\t") + [""] * 6)[:6]
        if not status.startswith("ii"):
            continue
        db[name] = ", ".join(x for x in (dep, pre) if x)
        if ess.startswith("yes") or ess.endswith("required"):
            essential.add(name)
        for p in prov.split(","):
            if p.strip():
                provides.setdefault(p.split()[0].split(":")[0], set()).add(name)
    return db, provides, essential


def closure(roots, db, provides):
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for clause in db.get(name, "").split(","):
            for alt in clause.split("|"):
                dep = alt.strip().split(" ")[0].split(":")[0]
                if not dep:
                    continue
                for real in ({dep} if dep in db else set()) | provides.get(dep, set()):
                    todo.append(real)
    return seen


def usr_merged(path):
    for top in ("/lib", "/bin", "/sbin", "/lib64"):
        if path.startswith(top + "/"):
            return "/usr" + path
    return path


def file_owners():
    """{file path (usr-merged): {package}} from dpkg's file lists."""
    owners = {}
    info = "/var/lib/dpkg/info"
    for f in os.listdir(info):
        if f.endswith(".list"):
            pkg = f[:-5].split(":")[0]
            with open(os.path.join(info, f), errors="replace") as fh:
                for line in fh:
                    owners.setdefault(usr_merged(line.rstrip("\n")), set()).add(pkg)
    return owners


def package_of(path, owners):
    for candidate in (path, os.path.realpath(path)):
        pkgs = owners.get(usr_merged(candidate))
        if pkgs:
            return pkgs
    return set()


IMPORT_RE = re.compile(r"^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import|import\s+([A-Za-z_][\w., ]*))", re.M)
INLINE_IMPORT_RE = re.compile(r"(?:from\s+([A-Za-z_][\w.]*)\s+import|\bimport\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*))")


def python_imports(root):
    """{module: first file that imports it}; local modules excluded."""
    found = {}
    local = {os.path.splitext(f)[0] for f in repo_files(root, (".py",))
             for f in [os.path.basename(f)]}

    def add(name, where):
        name = name.strip()
        if name and name.split(".")[0] not in local and name not in found:
            found[name] = where

    for path in repo_files(root, (".py",), shebang=b"python3"):
        rel = os.path.relpath(path, root)
        try:
            tree = ast.parse(open(path).read())
        except SyntaxError as e:
            raise SystemExit(f"FAIL {rel}: does not parse: {e}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    add(a.name, rel)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                add(node.module, rel)
    for path in repo_files(root, (".sh",)):
        rel = os.path.relpath(path, root)
        text = open(path).read()
        if "python3" not in text:
            continue
        for m in INLINE_IMPORT_RE.finditer(text):
            for name in (m.group(1) or m.group(2)).split(","):
                add(name, rel)
    return found


def import_as_on_new_machine(modules, allowed_files, root):
    """Imports every module in one /usr/bin/python3 in which a module whose
    file no allowed package ships cannot be found, as on a machine that has
    only what setup.sh installs: an optional import (scapy trying
    cryptography) then falls back as it would there, a required one (pymodbus
    needing serial_asyncio) fails. Returns {"blocked": {file: importer},
    "failed": {module: error}}."""
    prog = r"""
import importlib, importlib.machinery, json, os, sys
allowed = set(json.load(open(sys.argv[1])))
root = sys.argv[2]
blocked = {}
current = [None]
class OnlyAllowedPackages:
    def find_spec(self, name, path=None, target=None):
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        origin = getattr(spec, "origin", None) if spec else None
        if not origin or origin in ("built-in", "frozen") or origin.startswith(root):
            return None
        real = os.path.realpath(origin)
        if origin in allowed or real in allowed:
            return None
        blocked.setdefault(real, current[0])
        raise ModuleNotFoundError(f"No module named {name!r} (its package is not installed)", name=name)
sys.meta_path.insert(0, OnlyAllowedPackages())
failed = {}
for name in sys.argv[3:]:
    current[0] = name
    try:
        importlib.import_module(name)
    except Exception as e:
        failed[name] = repr(e)
print(json.dumps({"blocked": blocked, "failed": failed}))
"""
    import json
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(sorted(allowed_files), f)
        f.flush()
        r = subprocess.run(["/usr/bin/python3", "-c", prog, f.name, root, *sorted(modules)],
                           capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL importing the project's modules: {r.stderr.strip()}")
    return json.loads(r.stdout)


CMD_POS_RE = re.compile(
    r"(?:^|[;&|(]|\$\(|\bthen\b|\bdo\b|\belse\b|\bexec\b|\btimeout\s+\S+|"
    r"\bip\s+netns\s+exec\s+\S+)\s*([A-Za-z][\w.+-]*)(?=\s|$|[;&|)])", re.M)


def shell_programs(root):
    """{program: first script that runs it}, for words in command position
    that are not bash builtins, keywords or functions of the script."""
    found = {}
    for path in list(repo_files(root, (".sh",))) + [os.path.join(root, ".ci/run")]:
        if not os.path.exists(path):
            continue
        rel = os.path.relpath(path, root)
        text = re.sub(r"PACKAGES=\((.*?)\n\)", "", open(path).read(), flags=re.S)
        functions = set(re.findall(r"^\s*([A-Za-z_][\w-]*)\s*\(\)", text, re.M))
        code = "\n".join(line for line in text.splitlines()
                         if not line.lstrip().startswith(("#", "echo", "printf", "say", "skip")))
        for m in CMD_POS_RE.finditer(code):
            word = m.group(1)
            if word in BASH_WORDS or word in functions or word in found:
                continue
            if shutil.which(word, path=SYSTEM_PATH):
                found[word] = rel
    return found


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    db, provides, essential = installed_db()
    wanted = setup_packages(root)
    failures = []
    missing = sorted(p for p in wanted if p not in db)
    if missing:
        failures.append(f"setup.sh lists packages that are not installed: {' '.join(missing)}")
    allowed = closure(wanted & db.keys(), db, provides) | closure(essential, db, provides)

    owners = file_owners()
    allowed_files = [f for f, pkgs in owners.items() if pkgs & allowed]
    modules = python_imports(root)
    result = import_as_on_new_machine(modules, allowed_files, root)
    blocked = result["blocked"]
    for name, err in sorted(result["failed"].items()):
        why = sorted({"/".join(sorted(package_of(f, owners))) or f"{f} (no package)"
                      for f, via in blocked.items() if via == name})
        failures.append(f"python module {name} (used by {modules[name]}) would not import on a "
                        f"new machine: {err}" + (f"; needs {', '.join(why)}" if why else ""))

    programs = shell_programs(root)
    for prog, script in sorted(programs.items()):
        if SELF_INSTALLED.get(prog) == script:
            continue
        path = shutil.which(prog, path=SYSTEM_PATH)
        pkgs = package_of(path, owners)
        if not pkgs:
            failures.append(f"program {prog} ({path}, run by {script}) belongs to no Debian package")
        elif not pkgs & allowed:
            failures.append(f"program {prog} ({path}, run by {script}) is in "
                            f"{'/'.join(sorted(pkgs))}, which deploy/setup.sh does not install")

    print(f"checked {len(modules)} imports and "
          f"{len(programs)} programs against {len(allowed)} packages "
          f"(setup.sh's {len(wanted)} and their dependencies, plus Essential)")
    for f in failures:
        print("FAIL", f)
    if not failures:
        print("ok   every module and program comes from what deploy/setup.sh installs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
