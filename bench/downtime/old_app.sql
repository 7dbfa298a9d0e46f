\set id random(1, :rows)
SELECT balance, name, email FROM accounts WHERE id = :id;
UPDATE accounts SET balance = balance + 1 WHERE id = :id;
