"""Member levels (普通 → 白银 → 黄金 → 钻石): growth value, benefits, the member day, the level's checkout
contribution, the member centre and the console's level editor and member list (docs/membership.md)."""
