# STAND-IN for nixpkgs' qemu-guest profile (see proxmox-lxc.nix next to this file).
_: { }
