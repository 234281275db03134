{
  description = "openclaw-homelab: the OpenClaw AI gateway, hardened, on a homelab (generator, NixOS module, hosts, VM tests)";

  # flake.lock pins all three. crane and quadlet-nix have no inputs of their own, so there is
  # nothing to `follows`.
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    crane.url = "github:ipetkov/crane/v0.23.4";
    quadlet-nix.url = "github:SEIAROTg/quadlet-nix";
  };

  outputs =
    {
      self,
      nixpkgs,
      crane,
      quadlet-nix,
    }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # One package per workspace member, read from Cargo.toml: a crate appears here when it
      # joins the workspace, never before.
      cargoToml = builtins.fromTOML (builtins.readFile ./Cargo.toml);
      crateNames = map baseNameOf cargoToml.workspace.members;

      rust =
        pkgs:
        let
          craneLib = crane.mkLib pkgs;
          # Rust sources and Cargo files, plus what the crates read at build and test time:
          # OpenClaw's embedded schema, the example specs, the generated Nix options (a unit
          # test proves they are current).
          src = lib.fileset.toSource {
            root = ./.;
            fileset = lib.fileset.unions [
              (craneLib.fileset.commonCargoSources ./.)
              ./crates/openclaw-render/openclaw-schema
              ./examples
              ./modules/openclaw/spec-options.generated.nix
            ];
          };
          # crane's default cargoExtraArgs is "--locked"; the checks below inherit it.
          commonArgs = {
            inherit src;
            pname = "openclaw-homelab";
            inherit (cargoToml.workspace.package) version;
            strictDeps = true;
          };
          cargoArtifacts = craneLib.buildDepsOnly commonArgs;
          crate =
            name:
            craneLib.buildPackage (
              commonArgs
              // {
                inherit cargoArtifacts;
                pname = name;
                cargoExtraArgs = "--locked -p ${name}";
                # Tests run once, in the nextest check.
                doCheck = false;
                meta.mainProgram = name;
              }
            );
        in
        {
          packages = lib.genAttrs crateNames crate;
          checks = {
            clippy = craneLib.cargoClippy (
              commonArgs
              // {
                inherit cargoArtifacts;
                cargoClippyExtraArgs = "--workspace --all-targets -- --deny warnings";
              }
            );
            fmt = craneLib.cargoFmt { inherit (commonArgs) src pname version; };
            # Unit tests only: the integration tests drive real OpenClaw, OpenBao, nftables in
            # network namespaces and Podman, which the build sandbox does not have; they run in
            # scripts/test.sh and, on NixOS, in the VM tests.
            nextest = craneLib.cargoNextest (
              commonArgs
              // {
                inherit cargoArtifacts;
                cargoNextestExtraArgs = "--workspace --lib --bins";
              }
            );
          };
        };

      # OpenClaw 2026.9.6 from the lab's npm lock, and its image (Node's official
      # binary build exists for x86_64 only in our lock).
      gateway =
        pkgs:
        lib.optionalAttrs (pkgs.stdenv.hostPlatform.system == "x86_64-linux") rec {
          openclaw-gateway = pkgs.callPackage ./packages/openclaw-gateway.nix { };
          gateway-image = self.lib.gatewayImage {
            inherit pkgs;
            gateway = openclaw-gateway;
          };
        };

      host =
        path:
        lib.nixosSystem {
          modules = [
            { nixpkgs.hostPlatform = "x86_64-linux"; }
            self.nixosModules.default
            path
          ];
        };
    in
    {
      packages = forAllSystems (pkgs: (rust pkgs).packages // gateway pkgs);

      nixosModules.openclaw = import ./modules/flake-module.nix {
        quadletModule = quadlet-nix.nixosModules.quadlet;
        packagesFor = system: self.packages.${system} or { };
      };
      nixosModules.default = self.nixosModules.openclaw;

      nixosConfigurations = {
        openclaw-lxc = host ./hosts/openclaw-lxc;
        openclaw-vm = host ./hosts/openclaw-vm;
      };

      lib = {
        # `gatewayImage { pkgs, gateway, plugins ? [ ] }`: see lib/gateway-image.nix.
        gatewayImage = import ./lib/gateway-image.nix;
        # The NixOS VM tests against another gateway image:
        #   checks = openclaw-homelab.lib.vmTests { inherit pkgs; gatewayImage = ...; };
        vmTests =
          { pkgs, gatewayImage }:
          import ./checks {
            inherit pkgs gatewayImage;
            module = self.nixosModules.default;
            lab = self.packages.${pkgs.stdenv.hostPlatform.system}.openclaw-lab;
          };
      };

      checks = forAllSystems (
        pkgs:
        (rust pkgs).checks
        // lib.optionalAttrs (pkgs.stdenv.hostPlatform.system == "x86_64-linux") (
          {
            # Building the hosts runs the generator on their specs: an unsafe spec fails here.
            host-openclaw-lxc = self.nixosConfigurations.openclaw-lxc.config.system.build.toplevel;
            host-openclaw-vm = self.nixosConfigurations.openclaw-vm.config.system.build.toplevel;
          }
          # Multi-node VM tests with the Nix-built gateway image (needs KVM).
          // self.lib.vmTests {
            inherit pkgs;
            gatewayImage = self.packages.${pkgs.stdenv.hostPlatform.system}.gateway-image;
          }
        )
      );

      formatter = forAllSystems (pkgs: pkgs.nixfmt-rfc-style);
    };
}
