# Reads one of the committed npm locks (scripts/npm/<name>/, the same pins the lab installs) for
# nixpkgs' importNpmLock, which fetches each package by its lock `integrity` from its `resolved`
# URL. Our locks carry no `resolved` (written without registry URLs): every entry comes from the
# public registry, whose tarball URL follows from the package name and version.
{ lib }:
let
  registry = "https://registry.npmjs.org";
  # "node_modules/a/node_modules/@s/b" -> "@s/b"; an aliased entry names its package itself.
  packageName = key: entry: entry.name or (lib.last (lib.splitString "node_modules/" key));
  tarball =
    key: entry:
    let
      name = packageName key entry;
    in
    "${registry}/${name}/-/${baseNameOf name}-${entry.version}.tgz";
  needsUrl =
    key: entry:
    key != "" && !(entry ? resolved) && !(entry.link or false) && !(entry.inBundle or false);
in
dir: {
  package = lib.importJSON (dir + "/package.json");
  packageLock =
    let
      lock = lib.importJSON (dir + "/package-lock.json");
    in
    lock
    // {
      packages = lib.mapAttrs (
        key: entry: if needsUrl key entry then entry // { resolved = tarball key entry; } else entry
      ) lock.packages;
    };
}
