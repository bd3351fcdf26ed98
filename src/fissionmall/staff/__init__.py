"""The console's 员工 page (settings): the owner keeps the staff accounts (accounts/staff.py does the work).

A package of its own because the console kit imports accounts (logins): a console module inside accounts
would make accounts and web import each other."""
