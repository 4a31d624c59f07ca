"""The admin upload flow in the Flask test client."""

from __future__ import annotations

import io
import re

import pytest
from werkzeug.security import generate_password_hash

from geoapp.web import admin
from tests import hostile_files
from tests.tiny_data import tiny_app

PASSWORD = "correct horse battery staple"
TOKEN = "t0ken-for-scripts-0123456789"
GOOD_CSV = (
    "Mã sản phẩm,Tên sản phẩm,Nhóm sản phẩm,Số sao,Mã chủ thể\n"
    "N1,Mật ong mới,Thực phẩm,4,PR1\n"
    "N2,Rượu mới,Đồ uống,3,PR2\n"
).encode("utf-8-sig")
BAD_CSV = "product_id,name,group_148,stars,producer_id\nN1,<b>X</b>,Thực phẩm,9,PR1\n".encode()


@pytest.fixture()
def app(tmp_path):
    return tiny_app(
        tmp_path, admin_user="office", admin_password_hash=generate_password_hash(PASSWORD)
    )


@pytest.fixture()
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def csrf(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def sign_in(client, user="office", password=PASSWORD):
    token = csrf(client.get("/admin/login"))
    return client.post(
        "/admin/login", data={"user": user, "password": password, "csrf_token": token}
    )


def upload(client, data: bytes, name: str = "products.csv", **extra):
    token = csrf(client.get("/admin/import"))
    form = {"csrf_token": token, "file": (io.BytesIO(data), name), **extra}
    return client.post("/admin/import", data=form, content_type="multipart/form-data")


def served_products(app) -> set[str]:
    return set(app.extensions["geoapp"].store.ocop().products["product_id"])


def test_admin_is_disabled_without_credentials(tmp_path):
    client = tiny_app(tmp_path).test_client()
    for path in ("/admin/login", "/admin/import", "/admin/"):
        assert client.get(path).status_code == 404
    assert client.post("/admin/login", data={"password": "x"}).status_code == 404


def test_a_user_without_a_password_hash_does_not_enable_admin(tmp_path):
    client = tiny_app(tmp_path, admin_user="office").test_client()
    assert client.get("/admin/login").status_code == 404


def test_sign_in_is_required(client):
    response = client.get("/admin/import")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    response = client.post("/admin/import/confirm", data={"token": "x"})
    assert response.status_code in {302, 400}


def test_wrong_password_then_right_one(client):
    response = sign_in(client, password="nope")
    assert response.status_code == 401 and "Wrong user name or password" in response.get_data(
        as_text=True
    )
    assert sign_in(client, user="someone", password=PASSWORD).status_code == 401
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/import")
    assert client.get("/admin/import").status_code == 200


def test_token_sign_in(tmp_path):
    client = tiny_app(tmp_path, admin_token=TOKEN).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sign_in(client, user="", password="almost" + TOKEN).status_code == 401
    assert sign_in(client, user="", password=TOKEN).status_code == 302
    assert client.get("/admin/import").status_code == 200


def test_failed_sign_ins_are_rate_limited(client):
    for _ in range(admin.MAX_FAILURES):
        assert sign_in(client, password="nope").status_code == 401
    blocked = sign_in(client)  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)


def test_the_limit_holds_across_worker_processes(tmp_path):
    """Two apps on the same folders stand for two gunicorn workers: failures add up."""
    settings = {"admin_user": "office", "admin_password_hash": generate_password_hash(PASSWORD)}
    first = tiny_app(tmp_path, **settings).test_client()
    second = tiny_app(tmp_path, **settings).test_client()  # same data and versions folders
    for n in range(admin.MAX_FAILURES):
        assert sign_in(first if n % 2 else second, password="nope").status_code == 401
    assert sign_in(first).status_code == 429
    assert sign_in(second).status_code == 429
    assert (tmp_path / admin.SIGN_IN_FAILURES_FILE).exists()


def test_posts_without_the_csrf_token_are_refused(client):
    token = csrf(client.get("/admin/login"))
    response = client.post("/admin/login", data={"user": "office", "password": PASSWORD})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    response = client.post(
        "/admin/login", data={"user": "office", "password": PASSWORD, "csrf_token": token + "x"}
    )
    assert response.status_code == 400
    response = client.post(
        "/admin/login", data={"user": "office", "password": PASSWORD, "csrf_token": "jetonđ"}
    )
    assert response.status_code == 400  # a non-ASCII token is refused, not a server error
    sign_in(client)
    form = {"file": (io.BytesIO(GOOD_CSV), "products.csv")}
    response = client.post("/admin/import", data=form, content_type="multipart/form-data")
    assert response.status_code == 400


@pytest.mark.parametrize("extra_bytes", [1, 2 * 2**20])
def test_files_over_10_mb_get_a_clear_message(client, app, extra_bytes):
    """Just over 10 MB (checked on the file) and well over (refused before parsing)."""
    assert app.config["MAX_CONTENT_LENGTH"] == admin.MAX_UPLOAD_BYTES + admin.FORM_OVERHEAD_BYTES
    sign_in(client)
    big = b"product_id,name\n" + b"x" * (admin.MAX_UPLOAD_BYTES + extra_bytes)
    response = upload(client, big)
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "larger than the upload limit of 10 MB" in text
    assert served_products(app) == {"P1", "P2", "P3", "P4", "P5", "P6"}
    assert not list((app.extensions["geoapp"].settings.ocop_versions_dir).glob(".staging/*"))


def test_preview_then_confirm(client, app):
    sign_in(client)
    preview = upload(client, GOOD_CSV)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert re.search(r'data-kind="products"><td>products</td><td class="added">2</td>', page)
    assert 'id="confirm"' in page
    assert "N1" not in served_products(app)  # nothing changes before the confirmation
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    base = re.search(r'name="base" value="([^"]+)"', page).group(1)
    done = client.post(
        "/admin/import/confirm", data={"csrf_token": csrf(preview), "token": token, "base": base}
    )
    assert done.status_code == 200 and "v0001" in done.get_data(as_text=True)
    assert {"N1", "N2"} <= served_products(app)
    # the staged upload is used once
    again = client.post(
        "/admin/import/confirm", data={"csrf_token": csrf(preview), "token": token, "base": "v0001"}
    )
    assert again.status_code == 400
    history = client.get("/admin/import").get_data(as_text=True)
    assert "v0001" in history and "products.csv" in history


def test_preview_of_a_bad_file_lists_errors_and_offers_no_confirm(client, app):
    sign_in(client)
    page = upload(client, BAD_CSV).get_data(as_text=True)
    assert 'id="confirm"' not in page
    assert "stars must be a whole number from 1 to 5" in page
    assert "<b>X</b>" not in page  # values from the file are escaped
    assert served_products(app) == {"P1", "P2", "P3", "P4", "P5", "P6"}


def test_confirm_after_the_data_changed_shows_a_new_preview(client, app):
    sign_in(client)
    page = upload(client, GOOD_CSV).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    # someone else imports meanwhile
    from geoapp.services.imports import ImportService

    state = app.extensions["geoapp"]
    service = ImportService(state.store, state.settings)
    other = "product_id,name,group_148,stars,producer_id\nZ1,Z,Thực phẩm,3,PR1\n".encode()
    service.apply(service.plan([("other.csv", other)]))
    response = client.post(
        "/admin/import/confirm",
        data={"csrf_token": csrf(client.get("/admin/import")), "token": token, "base": "seed"},
    )
    assert response.status_code == 409
    assert "The data changed" in response.get_data(as_text=True)
    assert "N1" not in served_products(app)


def test_rollback_from_the_admin_page(client, app):
    sign_in(client)
    page = upload(client, GOOD_CSV).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = client.post(
        "/admin/import/confirm",
        data={"csrf_token": csrf(client.get("/admin/import")), "token": token, "base": "seed"},
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "N1" in served_products(app)
    response = client.post(
        "/admin/rollback", data={"csrf_token": csrf(client.get("/admin/import")), "version": "seed"}
    )
    assert response.status_code == 200
    assert "N1" not in served_products(app)


def test_sign_out(client):
    sign_in(client)
    response = client.post("/admin/logout", data={"csrf_token": csrf(client.get("/admin/import"))})
    assert response.status_code == 302
    assert client.get("/admin/import").status_code == 302


# -- hostile files and names (issue 12): clear messages, never a 500 -------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "products.csv",
            ('product_id,name,stars\nP1,"' + "x" * 200_000 + '",3\n').encode(),
            "a field longer than 131,072 characters",
        ),
        ("products.xlsx", hostile_files.malformed_xlsx(), "malformed XML"),
        ("products.xlsx", hostile_files.entity_xlsx("shared"), "declares entities or a DTD"),
        ("products.xlsx", hostile_files.huge_cell_xlsx(40_000), "cell B2 holds 40,000 characters"),
    ],
)
def test_hostile_uploads_get_a_clear_report_not_an_error_page(app, client, name, data, message):
    sign_in(client)
    before = served_products(app)
    response = upload(client, data, name)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and message in text
    assert "Traceback" not in text and "confirm" not in response.headers.get("Location", "")
    assert served_products(app) == before


@pytest.mark.parametrize("name", ["9" * 5000, "../../etc/passwd", "v\x00", "v0042"])
def test_rollback_to_an_absurd_or_unknown_version_is_a_clear_400(client, name):
    sign_in(client)
    token = csrf(client.get("/admin/import"))
    response = client.post("/admin/rollback", data={"csrf_token": token, "version": name})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is no version" in text and "Choose one of: seed" in text
    assert len(name) <= 20 or name[:21] not in text  # a long name is not echoed in full
