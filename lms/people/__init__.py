"""People: users, departments (a tree), job roles and the roles that grant rights."""
