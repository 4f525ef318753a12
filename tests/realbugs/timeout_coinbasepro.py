# danpaquin/coinbasepro-python (gdax): ".get_product_ticker() hangs forever sometimes"
# https://github.com/danpaquin/coinbasepro-python/issues/93 (fixed in commit e44a415)
# Family: timeout (LKL4). The public and authenticated API clients called
# requests.get(self.url + ..., auth=self.auth) with no timeout in every method; a stalled
# connection hung the caller's polling loop forever. The fix adds timeout=30 to each call.
import requests


# Before the fix.
class PublicClient:
    def __init__(self, api_url="https://api.gdax.com", product_id="BTC-USD"):
        self.url = api_url.rstrip("/")
        self.product_id = product_id

    def get_product_ticker(self, product_id=""):
        r = requests.get(self.url + "/products/{}/ticker".format(product_id or self.product_id))  # expect: timeout@gdax
        return r.json()


class AuthenticatedClient(PublicClient):
    def __init__(self, key, b64secret, passphrase, api_url="https://api.gdax.com"):
        super().__init__(api_url)
        self.auth = (key, b64secret, passphrase)

    def get_account(self, account_id):
        r = requests.get(self.url + "/accounts/" + account_id, auth=self.auth)  # expect: timeout@gdax
        return r.json()

    def get_account_history(self, account_id):
        result = []
        r = requests.get(self.url + "/accounts/{}/ledger".format(account_id), auth=self.auth)  # expect: timeout@gdax
        result.append(r.json())
        return result


# After the fix.
class PublicClientFixed:
    def __init__(self, api_url="https://api.gdax.com", product_id="BTC-USD"):
        self.url = api_url.rstrip("/")
        self.product_id = product_id

    def get_product_ticker(self, product_id=""):
        r = requests.get(self.url + "/products/{}/ticker".format(product_id or self.product_id), timeout=30)
        return r.json()


class AuthenticatedClientFixed(PublicClientFixed):
    def __init__(self, key, b64secret, passphrase, api_url="https://api.gdax.com"):
        super().__init__(api_url)
        self.auth = (key, b64secret, passphrase)

    def get_account(self, account_id):
        r = requests.get(self.url + "/accounts/" + account_id, auth=self.auth, timeout=30)
        return r.json()

    def get_account_history(self, account_id):
        result = []
        r = requests.get(self.url + "/accounts/{}/ledger".format(account_id), auth=self.auth, timeout=30)
        result.append(r.json())
        return result
