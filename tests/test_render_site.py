"""Sites: the gateway's file set (a .tar.gz with a one-line install command), and what
the cloud end of a tunnel to a site behind NAT says (no endpoint: the site dials)."""

from __future__ import annotations

import gzip
import io
import tarfile

from netweave.render import render_topology

from tests.support.render_helpers import STACKS, from_text, load


def test_site_gateway_bundle_unpacks_at_root_with_its_install_script() -> None:
    rendered = render_topology(*load("s6-home-to-vultr"))
    home = rendered.hosts["home"]
    assert home.manifest["delivery"]["install"] == \
        "sudo tar -xzf home.tar.gz -C / && sudo sh /etc/netweave/install.sh"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(home.artifacts["home.tar.gz"]))) as tar:
        members = {m.name: m.mode for m in tar.getmembers()}
    assert members["etc/netweave/install.sh"] == 0o755
    assert members["etc/wireguard/wg-vultr-vcpe.conf"] == 0o600
    assert "etc/netplan/60-netweave.yaml" not in members  # the user's box keeps its own NICs


def test_cloud_end_has_no_endpoint_for_a_site_behind_nat() -> None:
    rendered = render_topology(*load("s6-home-to-vultr"))
    cloud = rendered.hosts["vultr-vcpe"].file("/etc/wireguard/wg-home.conf").content
    site = rendered.hosts["home"].file("/etc/wireguard/wg-vultr-vcpe.conf").content
    assert "Endpoint" not in cloud.replace("no endpoint", "")
    assert "Endpoint = 192.0.2.10:51820" in site  # the site dials the Vultr vCPE
    assert "PersistentKeepalive = 25" in site     # and holds its NAT mapping open


def test_ipsec_to_a_site_behind_nat_accepts_any_address_and_the_site_initiates() -> None:
    text = (STACKS / "s6-home-to-vultr.yaml").read_text().replace(
        "type: wireguard                    # the site dials", "type: ipsec  # the site dials")
    rendered = render_topology(*from_text(text))
    cloud = rendered.hosts["vultr-vcpe"].file("/etc/swanctl/conf.d/netweave.conf").content
    site = rendered.hosts["home"].file("/etc/swanctl/conf.d/netweave.conf").content
    assert "remote_addrs = %any" in cloud and "start_action = none" in cloud
    assert "remote_addrs = 192.0.2.10" in site and "start_action = start" in site
    xfrm = rendered.hosts["home"].file("/etc/netweave/xfrm.sh").content
    assert "type xfrm if_id" in xfrm  # no underlying device named: netweave does not know the box's NICs
