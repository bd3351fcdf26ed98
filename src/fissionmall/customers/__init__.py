"""The console's 客户 pages: the customer list, a customer's page and the customer search the pickers use.

A package of its own because the console kit imports accounts (logins): a console module inside accounts
would make accounts and web import each other. It names no marketing tool: each tool adds its panel,
list column or filter through core/extras.py (CUSTOMER_PANELS, CUSTOMER_COLUMNS, CUSTOMER_FILTERS)."""
