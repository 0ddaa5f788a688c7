"""The auto-match rule on its own: whole words, case ignored, no guess when in doubt."""

from helpdesk_api.models import Asset, Product
from helpdesk_api.products.matching import MAX_TEXT, MatchReason, Owned, choose, rank


def _owned(asset_id: int, product_id: int, name: str, serial=None, order=None) -> Owned:
    product = Product(id=product_id, name=name, sku=f"S{product_id}")
    asset = Asset(id=asset_id, product_id=product_id, serial_number=serial, order_number=order)
    return Owned(asset, product)


def test_choose_takes_only_what_is_certain():
    router = _owned(1, 10, "Acme Router", serial="AB-1234", order="ORD-9")
    spare = _owned(2, 10, "Acme Router", serial="AB-5678", order="ORD-9")
    phone = _owned(3, 20, "Go", serial="PH-0001")
    owned = [router, spare, phone]
    assert choose([phone], "anything").reason is MatchReason.only_asset
    assert choose(owned, "my ab-1234 died") == choose(owned, "AB-1234!")
    assert choose(owned, "my ab-1234 died").asset_id == 1
    assert choose(owned, "AB-12345") is None  # inside a longer code
    assert choose(owned, "XAB-1234") is None
    by_order = choose(owned, "order ORD-9")
    assert (by_order.product_id, by_order.asset_id) == (10, None)
    assert choose(owned, "acme router is slow").asset_id is None  # two of that product
    assert choose(owned, "I want to go home") is None  # names shorter than 3 never match
    assert choose(owned, "AB-1234 and PH-0001") is None  # two devices named
    assert choose([], "AB-1234") is None
    assert choose(owned, "x" * MAX_TEXT + " AB-1234") is None  # past what is read


def test_rank_puts_serial_numbers_first_then_orders_then_names():
    owned = [
        _owned(1, 10, "Acme Router", order="ORD-1111"),
        _owned(2, 20, "Acme Phone", serial="PH-2222"),
        _owned(3, 30, "Zeta Watch"),
    ]
    ranked = rank(owned, "Acme Phone PH-2222, order ORD-1111")
    assert [c.owned.asset.id for c in ranked] == [2, 1, 3]
    assert ranked[0].reasons == [MatchReason.serial_number, MatchReason.product_name]
    assert ranked[2].reasons == []
