# STAND-IN for nixpkgs' proxmox-lxc profile: the offline evaluation checks our options, not the
# container's boot settings.
_: { }
