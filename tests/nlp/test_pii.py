"""Phones, ID numbers, masking and the logging filter."""

from __future__ import annotations

import logging

import pytest

from bot.nlp import PiiMaskingFilter, find_id_numbers, find_phones, mask_pii, valid_id_number

VALID_ID = "110105199001011232"  # check digit computed per GB 11643-1999
VALID_ID_X = "32010219751224002X"
WRONG_ID = "110105199001011234"  # same number, wrong check digit


@pytest.mark.parametrize(
    ("text", "phones"),
    [
        ("我电话13912345678", ["13912345678"]),
        ("打139 1234 5678找我", ["13912345678"]),
        ("139-1234-5678", ["13912345678"]),
        ("+86 139 1234 5678", ["13912345678"]),
        ("办公室010-65123456", ["010-65123456"]),
        ("座机（010）65123456", ["010-65123456"]),
        ("13912345678，还有18600001111", ["13912345678", "18600001111"]),
        ("12345678901 不是手机", []),
        ("工号139123456789", []),
        (f"身份证{VALID_ID}", []),
        ("没留电话", []),
    ],
)
def test_find_phones(text: str, phones: list[str]) -> None:
    """Mobiles are normalised to 11 digits and landlines to area-code-number."""
    assert find_phones(text) == phones


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (VALID_ID, True),
        (VALID_ID_X, True),
        (VALID_ID_X.lower(), True),
        (WRONG_ID, False),
        ("11010519900101123", False),
        ("abc", False),
        ("010105199001011232", False),
    ],
)
def test_valid_id_number(value: str, ok: bool) -> None:
    """The GB 11643-1999 check digit decides validity."""
    assert valid_id_number(value) is ok


def test_find_id_numbers() -> None:
    """Only IDs with a right check digit are found, X upper-cased."""
    text = f"她的身份证{VALID_ID}，她妈妈的{VALID_ID_X.lower()}，写错的{WRONG_ID}"
    assert find_id_numbers(text) == [VALID_ID, VALID_ID_X]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("电话138 1234 5678", "电话138****5678"),
        (f"身份证{VALID_ID}", "身份证110105********1232"),
        (f"身份证{WRONG_ID}", "身份证110105********1234"),
        ("座机010-65123456", "座机010-******56"),
        ("没有个人信息", "没有个人信息"),
    ],
)
def test_mask_pii(text: str, masked: str) -> None:
    """Mobiles keep 3+4 digits, IDs 6+4 (valid or not), landlines the area code and last 2."""
    assert mask_pii(text) == masked


def test_logging_filter_masks_message_and_args() -> None:
    """The filter formats, masks and clears args, and keeps the record."""
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "用户 %s 留了 %s", ("13812345678", VALID_ID), None
    )
    assert PiiMaskingFilter().filter(record) is True
    assert record.getMessage() == "用户 138****5678 留了 110105********1232"
    assert record.args == ()


def test_logging_filter_masks_exception_text(caplog: pytest.LogCaptureFixture) -> None:
    """A traceback that carries a phone number is masked too."""
    logger = logging.getLogger("tests.nlp.pii")
    logger.addFilter(PiiMaskingFilter())
    try:
        with caplog.at_level(logging.ERROR, logger="tests.nlp.pii"):
            try:
                raise ValueError("bad phone 13812345678")
            except ValueError:
                logger.exception("failed for %s", "13912345678")
    finally:
        logger.filters.clear()
    text = caplog.text
    assert "13812345678" not in text and "13912345678" not in text
    assert "138****5678" in text and "139****5678" in text
