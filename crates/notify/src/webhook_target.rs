//! Where a self-service webhook may point.
//!
//! Anyone can subscribe a webhook on the public status page, so without a
//! guard Dialtone would POST wherever a stranger points it: the database's
//! HTTP port, a cloud metadata service, an admin page on the operator's own
//! network (server-side request forgery). Subscriber webhooks may therefore
//! reach only globally routable addresses. The guard is checked twice: the
//! URL when the subscription is made (a clear error at once) and every
//! resolved address when a message is sent, because a name that resolved to a
//! public address yesterday may resolve to 127.0.0.1 today. Redirects are not
//! followed for the same reason. Pagers and mitigation webhooks come from the
//! operator's own configuration and are not restricted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("`{url}` is not an http(s) URL: {reason}")]
    NotHttp { url: String, reason: String },
    #[error(
        "`{url}` points at {host}, a loopback, private or otherwise non-public address; \
         webhooks must be reachable on the public internet"
    )]
    NotPublic { url: String, host: String },
}

/// Checks what can be checked without DNS: an http(s) URL whose host, if it
/// is an address or `localhost`, is public. `allow_private` lifts the address
/// check (a lab or a test whose receivers listen on loopback).
pub fn check_webhook_url(url: &str, allow_private: bool) -> Result<Url, TargetError> {
    let parsed = Url::parse(url).map_err(|e| TargetError::NotHttp {
        url: url.into(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetError::NotHttp {
            url: url.into(),
            reason: format!("the scheme is `{}`", parsed.scheme()),
        });
    }
    let public = match parsed.host() {
        None => {
            return Err(TargetError::NotHttp {
                url: url.into(),
                reason: "it has no host".into(),
            });
        }
        Some(url::Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => !is_local_name(name),
    };
    if public || allow_private {
        Ok(parsed)
    } else {
        Err(TargetError::NotPublic {
            url: url.into(),
            host: parsed.host_str().unwrap_or_default().into(),
        })
    }
}

/// Names that resolve to this host or its local network by convention.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".local")
        || name.ends_with(".internal")
}

/// Whether `ip` is globally routable: not loopback, private, link-local,
/// shared (carrier-grade NAT), documentation, benchmarking, multicast,
/// broadcast, reserved or unspecified, including IPv4 addresses carried
/// inside IPv6 (mapped, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10, carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // 198.18.0.0/15, benchmarking
        || a >= 240) // 240.0.0.0/4, reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match segments {
        // 64:ff9b::/96, NAT64: the IPv4 address is the last 32 bits.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return is_public_v4(embedded_v4(hi, lo)),
        // ::ffff:0:0:0/96, IPv4-translated (SIIT): likewise.
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => return is_public_v4(embedded_v4(hi, lo)),
        // 2001::/32, Teredo: the client's IPv4 address, inverted, ends it.
        [0x2001, 0, .., hi, lo] => return is_public_v4(embedded_v4(!hi, !lo)),
        // 2002::/16, 6to4: the IPv4 address follows the prefix.
        [0x2002, hi, lo, ..] => return is_public_v4(embedded_v4(hi, lo)),
        _ => {}
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (segments[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
        || (segments[0] & 0xffc0) == 0xfec0 // fec0::/10, site-local (deprecated)
        || segments[..3] == [0x64, 0xff9b, 1] // 64:ff9b:1::/48, local-use NAT64
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // 2001:db8::/32, documentation
        || segments[..6] == [0; 6]) // ::/96, IPv4-compatible (deprecated)
}

/// A resolver that keeps only public addresses, and fails when none remain,
/// so a subscriber's name cannot be pointed at an internal service after the
/// subscription was checked.
#[derive(Debug, Default)]
pub(crate) struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address; webhooks may not reach private networks"
                )
                .into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "::127.0.0.1",
            "::ffff:0:7f00:1",
            "fec0::1",
            "64:ff9b:1::a00:1",
            // Teredo for the client 127.0.0.1 (stored inverted).
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
    }

    #[test]
    fn routable_addresses_are_public() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
        }
    }

    #[test]
    fn urls_to_internal_hosts_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data/",
            "https://localhost/hook",
            "https://db.internal/hook",
            "http://0x7f000001/hook",
            "http://2130706433/hook",
        ] {
            assert!(
                matches!(
                    check_webhook_url(url, false),
                    Err(TargetError::NotPublic { .. })
                ),
                "{url} was accepted"
            );
            assert!(
                check_webhook_url(url, true).is_ok(),
                "{url} refused when allowed"
            );
        }
        assert!(check_webhook_url("https://hooks.example.net/status", false).is_ok());
    }

    #[test]
    fn non_http_urls_are_refused_whatever_the_setting() {
        for url in [
            "ftp://example.net/",
            "file:///etc/passwd",
            "not a url",
            "http://",
        ] {
            assert!(
                matches!(
                    check_webhook_url(url, true),
                    Err(TargetError::NotHttp { .. })
                ),
                "{url} was accepted"
            );
        }
    }

    #[tokio::test]
    async fn the_resolver_drops_private_answers() {
        let name: Name = "localhost".parse().unwrap();
        let refused = PublicOnlyResolver.resolve(name).await;
        assert!(refused.is_err(), "localhost resolved to a public address");
    }
}
