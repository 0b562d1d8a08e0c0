//! Where Sevwatch may deliver over HTTP. A webhook URL is chosen by whoever configures a channel
//! or a user's contact, so without a rule the outbox is a way to make the server call its own
//! loopback, the cloud metadata address (169.254.169.254) or the private network behind it,
//! and read the answers back in delivery errors. By default only public addresses are reached;
//! loopback, private (RFC 1918, unique-local), link-local, shared (100.64/10), unspecified and
//! multicast addresses are refused unless `[outbox] allow_networks` lists them.
//!
//! The rule is applied where the address is known: names are checked by the HTTP client's
//! resolver on every connection (so a name that later resolves elsewhere is caught, DNS
//! rebinding included), and literal IP hosts, which no resolver sees, by [`Destinations::check_url`]
//! before each request. A proxy configured in the environment resolves names itself and is
//! trusted to apply its own rules.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// An IP network written `10.0.0.0/8`, `fd00::/8`, or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Network, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("{s:?} is not an IP address or network (10.0.0.0/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => {
                p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{s:?}: prefix must be 0-{max}"))?
            }
            None => max,
        };
        Ok(Network { addr, prefix })
    }
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, bits) = ((prefix / 8) as usize, prefix % 8);
    a[..whole] == b[..whole] && (bits == 0 || (a[whole] ^ b[whole]) >> (8 - bits) == 0)
}

/// An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is the IPv4 address it maps.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Is `ip` an address on the public internet?
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The delivery rule: public addresses, plus the networks allowed in configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Destinations {
    allowed: Vec<Network>,
}

impl Destinations {
    pub fn allowing(allowed: Vec<Network>) -> Destinations {
        Destinations { allowed }
    }

    /// Everything allowed: for tools and tests that deliver to local receivers on purpose.
    pub fn anywhere() -> Destinations {
        Destinations::allowing(vec![
            Network::from_str("0.0.0.0/0").expect("valid"),
            Network::from_str("::/0").expect("valid"),
        ])
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|n| n.contains(ip))
    }

    /// Refuses a URL whose host is a literal IP address this rule does not permit (names are
    /// checked when they are resolved).
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let Ok(parsed) = reqwest::Url::parse(url) else { return Ok(()) };
        let host = parsed.host_str().unwrap_or_default();
        let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else { return Ok(()) };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(refusal(&ip.to_string(), &[ip]))
        }
    }
}

/// Begins every refusal, so a delivery error can be told apart from a network failure.
pub(crate) const REFUSED: &str = "refused to deliver to";

fn refusal(host: &str, addrs: &[IpAddr]) -> String {
    let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    format!(
        "{REFUSED} {host}: {} is not a public address; list the network in [outbox] allow_networks to allow it",
        list.join(", ")
    )
}

/// The HTTP client's resolver: the system's answer, less the addresses the rule refuses.
pub(crate) struct GuardedResolver(pub Arc<Destinations>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let rule = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (ok, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                found.into_iter().partition(|a| rule.permits(a.ip()));
            if ok.is_empty() && !refused.is_empty() {
                let ips: Vec<IpAddr> = refused.iter().map(SocketAddr::ip).collect();
                return Err(refusal(&host, &ips).into());
            }
            Ok(Box::new(ok.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn local_private_and_metadata_addresses_are_not_public() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public(ip(s)), "{s}");
        }
        for s in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "100.128.0.1", "172.32.0.1"] {
            assert!(is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn allowed_networks_open_exactly_their_range() {
        let d = Destinations::allowing(vec!["10.20.0.0/16".parse().unwrap(), "127.0.0.1".parse().unwrap()]);
        assert!(d.permits(ip("10.20.255.1")) && d.permits(ip("127.0.0.1")) && d.permits(ip("::ffff:127.0.0.1")));
        assert!(!d.permits(ip("10.21.0.1")) && !d.permits(ip("127.0.0.2")));
        assert!(Destinations::anywhere().permits(ip("::1")));
    }

    #[test]
    fn literal_hosts_are_checked_names_are_left_to_the_resolver() {
        let d = Destinations::default();
        assert!(d.check_url("http://169.254.169.254/latest/meta-data").unwrap_err().contains("allow_networks"));
        assert!(d.check_url("http://[::1]:8080/x").is_err());
        assert!(d.check_url("https://hooks.slack.com/services/x").is_ok());
        assert!(d.check_url("http://8.8.8.8/").is_ok());
    }

    #[test]
    fn networks_parse_with_clear_errors() {
        assert!("10.0.0.0/33".parse::<Network>().unwrap_err().contains("0-32"));
        assert!("nope".parse::<Network>().is_err());
        assert_eq!("::1".parse::<Network>().unwrap(), Network { addr: ip("::1"), prefix: 128 });
    }
}
