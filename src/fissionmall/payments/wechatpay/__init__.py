"""WeChat Pay APIv3 (JSAPI / mini-program, direct merchant), one of payments' gateways.

- `gateway`: `WechatPayGateway` behind payments.gateway.PaymentGateway, and `register_gateways`.
- `client`: the signed HTTP client for payments, refunds, profit sharing (分账) and merchant
  transfers (商家转账).
- `crypto`: the APIv3 signatures, paySign and AEAD resources (the client and the fake share them).
- `sweeps`: the periodic jobs (reconcile pending payments, poll stuck refunds) and transfer results.
- `fake`: a local WeChat Pay server for tests and `python -m fissionmall.wechat.fake`.

Nothing is imported here, so importing a sibling does not pull in the crypto stack.
"""
