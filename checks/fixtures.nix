# Test-only PKI made at build time: a root, and a machine certificate (clientAuth) for the
# gateway's OpenBao cert login. These keys are in the store on purpose: they exist only in VMs.
{ pkgs }:
pkgs.runCommand "openclaw-vm-test-pki" { nativeBuildInputs = [ pkgs.openssl ]; } ''
  mkdir -p $out
  cd $out
  openssl ecparam -name prime256v1 -genkey -noout -out root.key
  openssl req -x509 -new -key root.key -subj "/CN=openclaw test root" -days 3650 -out root.crt
  openssl ecparam -name prime256v1 -genkey -noout -out vault.key
  openssl req -new -key vault.key -subj "/CN=vault" -out vault.csr
  printf 'subjectAltName=DNS:vault,IP:192.168.1.10\nextendedKeyUsage=serverAuth\n' > vault.ext
  openssl x509 -req -in vault.csr -CA root.crt -CAkey root.key -CAcreateserial -days 3650 -extfile vault.ext -out vault.crt
  openssl ecparam -name prime256v1 -genkey -noout -out machine.key
  openssl req -new -key machine.key -subj "/CN=gateway" -out machine.csr
  printf 'extendedKeyUsage=clientAuth\n' > machine.ext
  openssl x509 -req -in machine.csr -CA root.crt -CAkey root.key -CAcreateserial -days 3650 -extfile machine.ext -out machine.crt
  rm -f *.csr *.ext *.srl
''
