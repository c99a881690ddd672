"""The fictional Stadt Musterhausen: its departments, job roles and a pool of names."""

DOMAIN = "musterhausen.example"

# (code, name, parent code)
DEPARTMENTS = [
    ("FB1", "Fachbereich 1 – Zentrale Dienste", None),
    ("10.1", "Personal", "FB1"),
    ("10.2", "Organisation und IT", "FB1"),
    ("FB2", "Fachbereich 2 – Finanzen", None),
    ("20.1", "Kämmerei", "FB2"),
    ("20.2", "Stadtkasse", "FB2"),
    ("FB3", "Fachbereich 3 – Bürgerdienste und Ordnung", None),
    ("32.1", "Ordnungsamt", "FB3"),
    ("33.1", "Bürgerbüro", "FB3"),
    ("FB4", "Fachbereich 4 – Bildung und Soziales", None),
    ("40.1", "Schulen und Kindertagesstätten", "FB4"),
    ("50.1", "Soziales und Wohnen", "FB4"),
    ("FB5", "Fachbereich 5 – Planen und Bauen", None),
    ("61.1", "Stadtplanung", "FB5"),
    ("63.1", "Bauordnung", "FB5"),
]

# (code, title, departments where people with this job role work)
JOB_ROLES = [
    ("SB-BB", "Sachbearbeitung Bürgerbüro", ["33.1"]),
    ("SB-ORD", "Sachbearbeitung Ordnungsamt", ["32.1"]),
    ("VD-ORD", "Kommunaler Ordnungsdienst", ["32.1"]),
    ("SB-PERS", "Sachbearbeitung Personal", ["10.1"]),
    ("IT-ADM", "IT-Administration", ["10.2"]),
    ("SB-FIN", "Sachbearbeitung Haushalt und Finanzen", ["20.1"]),
    ("KASSE", "Sachbearbeitung Stadtkasse", ["20.2"]),
    ("SB-SOZ", "Sachbearbeitung Soziales und Wohngeld", ["50.1"]),
    ("SB-KITA", "Sachbearbeitung Kita- und Schulverwaltung", ["40.1"]),
    ("PLAN", "Stadtplanung", ["61.1"]),
    ("BAU", "Bauaufsicht und Bauberatung", ["63.1"]),
    ("ASS", "Assistenz und Sekretariat", ["FB1", "FB2", "FB3", "FB4", "FB5"]),
]

# The five demo logins: (role key, roles, given name, family name, department, job role, heads)
LOGINS = [
    ("admin", ["admin"], "Andreas", "Admin", "10.2", "IT-ADM", []),
    ("hr", ["hr"], "Helga", "Hoffmann", "10.1", "SB-PERS", []),
    ("trainer", ["trainer"], "Tobias", "Trainer", "10.2", "IT-ADM", []),
    ("manager", ["manager"], "Martina", "Meyer", "FB3", "ASS", ["FB3"]),
    ("employee", [], "Emil", "Engel", "33.1", "SB-BB", []),
]

GIVEN_NAMES = [
    "Anna", "Lena", "Julia", "Sarah", "Laura", "Katharina", "Sabine", "Petra", "Monika", "Claudia",
    "Birgit", "Susanne", "Nicole", "Stefanie", "Melanie", "Jana", "Aylin", "Elif", "Marta", "Olga",
    "Thomas", "Michael", "Stefan", "Andreas", "Markus", "Christian", "Frank", "Jürgen", "Uwe", "Peter",
    "Jan", "Lukas", "Tim", "Florian", "Sebastian", "Daniel", "Mehmet", "Can", "Piotr", "Dimitri",
]

FAMILY_NAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann",
    "Yılmaz", "Kaya", "Nowak", "Kowalski", "Popović", "Günther", "Vogel", "Friedrich", "Keller", "Große",
]
