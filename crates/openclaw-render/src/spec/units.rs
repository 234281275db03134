//! Small value types people write as strings: durations ("90s", "8h"), sizes ("2560M") and
//! networks ("10.0.3.0/24", "fd00::/8", "192.0.2.7").

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written as `<number><unit>` with unit s, m, h or d (`90s`, `5m`, `8h`, `2d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(u64);

impl Duration {
    pub const fn from_secs(secs: u64) -> Self {
        Duration(secs)
    }
    pub const fn as_secs(self) -> u64 {
        self.0
    }
    pub const fn as_millis(self) -> u64 {
        self.0 * 1000
    }
}

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num.parse().map_err(|_| {
            format!("'{s}' is not a duration; write e.g. \"90s\", \"5m\", \"8h\" or \"2d\"")
        })?;
        let mult = match unit {
            "s" | "" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => return Err(format!("'{s}' has unknown unit '{unit}'; use s, m, h or d")),
        };
        n.checked_mul(mult)
            .map(Duration)
            .ok_or_else(|| format!("'{s}' is too long"))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s != 0 && s % 86400 == 0 {
            write!(f, "{}d", s / 86400)
        } else if s != 0 && s % 3600 == 0 {
            write!(f, "{}h", s / 3600)
        } else if s != 0 && s % 60 == 0 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

/// A size in bytes written as `<number>[K|M|G]` (binary units: `2560M`, `2G`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(u64);

impl ByteSize {
    pub const fn mib(n: u64) -> Self {
        ByteSize(n * 1024 * 1024)
    }
    pub const fn bytes(self) -> u64 {
        self.0
    }
    pub const fn as_mib(self) -> u64 {
        self.0 / (1024 * 1024)
    }
}

impl FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("'{s}' is not a size; write e.g. \"2560M\" or \"2G\""))?;
        let mult: u64 = match unit.trim_end_matches(['i', 'B']) {
            "" => 1,
            "K" | "k" => 1 << 10,
            "M" | "m" => 1 << 20,
            "G" | "g" => 1 << 30,
            _ => return Err(format!("'{s}' has unknown unit '{unit}'; use K, M or G")),
        };
        n.checked_mul(mult)
            .map(ByteSize)
            .ok_or_else(|| format!("'{s}' is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b != 0 && b % (1 << 30) == 0 {
            write!(f, "{}G", b >> 30)
        } else if b != 0 && b % (1 << 20) == 0 {
            write!(f, "{}M", b >> 20)
        } else if b != 0 && b % (1 << 10) == 0 {
            write!(f, "{}K", b >> 10)
        } else {
            write!(f, "{b}")
        }
    }
}

/// An IPv4/IPv6 network; a bare address means a single host (/32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, String> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!("prefix /{prefix} is longer than {max} bits"));
        }
        Ok(Cidr {
            addr: mask(addr, prefix),
            prefix,
        })
    }
    pub fn addr(&self) -> IpAddr {
        self.addr
    }
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
    /// True when the two networks share at least one address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        if self.is_ipv4() != other.is_ipv4() {
            return false;
        }
        let p = self.prefix.min(other.prefix);
        mask(self.addr, p) == mask(other.addr, p)
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("'{s}' is not an address or CIDR; write e.g. \"10.0.3.10\" or \"10.0.3.0/24\"")
        };
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().map_err(|_| bad())?;
        let prefix = match p {
            Some(p) => p.trim().parse().map_err(|_| bad())?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        let c = Cidr::new(addr, prefix).map_err(|e| format!("'{s}': {e}"))?;
        if c.addr != addr {
            return Err(format!(
                "'{s}' has host bits set; the network is {}/{}",
                c.addr, c.prefix
            ));
        }
        Ok(c)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = if self.is_ipv4() { 32 } else { 128 };
        if self.prefix == full {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

macro_rules! string_serde {
    ($t:ty, $schema_name:literal, $pattern:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
        impl JsonSchema for $t {
            fn schema_name() -> String {
                $schema_name.into()
            }
            fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
                schemars::schema::SchemaObject {
                    instance_type: Some(schemars::schema::InstanceType::String.into()),
                    string: Some(Box::new(schemars::schema::StringValidation {
                        pattern: Some($pattern.into()),
                        ..Default::default()
                    })),
                    ..Default::default()
                }
                .into()
            }
        }
    };
}

string_serde!(Duration, "Duration", r"^[0-9]+[smhd]?$");
string_serde!(ByteSize, "ByteSize", r"^[0-9]+([KMGkmg](i?B)?)?$");
string_serde!(Cidr, "Cidr", r"^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        assert_eq!("90s".parse::<Duration>().unwrap().as_secs(), 90);
        assert_eq!("8h".parse::<Duration>().unwrap().to_string(), "8h");
        assert_eq!("120".parse::<Duration>().unwrap().to_string(), "2m");
        assert!("8 hours".parse::<Duration>().is_err());
        assert!("h".parse::<Duration>().is_err());
    }

    #[test]
    fn sizes_parse_binary_units() {
        assert_eq!("2560M".parse::<ByteSize>().unwrap().as_mib(), 2560);
        assert_eq!("2G".parse::<ByteSize>().unwrap().as_mib(), 2048);
        assert_eq!("2GiB".parse::<ByteSize>().unwrap().as_mib(), 2048);
        assert!("2T".parse::<ByteSize>().is_err());
    }

    #[test]
    fn cidrs_contain_and_overlap() {
        let lan: Cidr = "10.0.0.0/8".parse().unwrap();
        let host: Cidr = "10.0.3.10".parse().unwrap();
        assert!(lan.overlaps(&host));
        assert!(lan.contains("10.200.1.1".parse().unwrap()));
        assert!(!lan.contains("11.0.0.1".parse().unwrap()));
        assert!(!lan.contains("::1".parse().unwrap()));
        assert_eq!(host.to_string(), "10.0.3.10");
        assert!("10.0.3.1/24"
            .parse::<Cidr>()
            .unwrap_err()
            .contains("host bits"));
        assert!("fd00::/8".parse::<Cidr>().is_ok());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
    }
}
