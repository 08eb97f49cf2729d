"""The plan template `afisha import --template` writes: a month of 30 posts and 5 events, with
examples in Russian, Kazakh, Lithuanian and English, dated from tomorrow so it imports as is."""

from __future__ import annotations

import csv
import io
from datetime import date, time, timedelta

from content.errors import InvalidInput

HEADERS = tuple(
    "kind date time channels text text_ru text_kk text_lt text_en "
    "title image link place ends reminders announce language notes".split()
)
LANGS = ("ru", "kk", "lt", "en")
POSTS = 30
EVENT_DAYS = (4, 10, 16, 22, 27)  # days after the first, one event in each week or so

# Each topic in the four languages, in the order of LANGS.
TOPICS = (
    (
        "Новые поступления: на полках уже ждут свежие романы и детские книги. Заходите!",
        "Жаңа түсімдер: сөрелерде жаңа романдар мен балалар кітаптары сізді күтуде. Келіңіздер!",
        "Naujienos: lentynose jūsų jau laukia nauji romanai ir knygos vaikams. Užsukite!",
        "New arrivals: fresh novels and children's books are waiting on the shelves. Come by!",
    ),
    (
        "Напоминаем: библиотека открыта с 10:00 до 19:00, в субботу — до 17:00.",
        "Еске саламыз: кітапхана 10:00-ден 19:00-ге дейін, сенбіде 17:00-ге дейін жұмыс істейді.",
        "Primename: biblioteka dirba nuo 10:00 iki 19:00, šeštadieniais – iki 17:00.",
        "A reminder: the library is open 10:00–19:00, and until 17:00 on Saturdays.",
    ),
    (
        "Книга недели — «Мастер и Маргарита». Возьмите её на абонементе!",
        "Апта кітабы — Абайдың «Қара сөздері». Абонементтен алыңыз!",
        "Savaitės knyga – Kristijono Donelaičio „Metai“. Pasiimkite ją abonemente!",
        'Book of the week: "The Little Prince". Borrow it at the lending desk!',
    ),
    (
        "Электронная библиотека работает круглосуточно: тысячи книг по читательскому билету.",
        "Электрондық кітапхана тәулік бойы ашық: оқырман билетімен мыңдаған кітап қолжетімді.",
        "Elektroninė biblioteka veikia visą parą: su skaitytojo pažymėjimu – tūkstančiai knygų.",
        "Our e-library never closes: thousands of books with your library card.",
    ),
    (
        "В читальном зале появились новые места для занятий и бесплатный Wi-Fi.",
        "Оқу залында сабаққа арналған жаңа орындар мен тегін Wi-Fi пайда болды.",
        "Skaitykloje atsirado naujų vietų mokytis ir nemokamas Wi-Fi.",
        "The reading room has new study desks and free Wi-Fi.",
    ),
    (
        "Ищем волонтёров для детских чтений по субботам. Пишите нам!",
        "Сенбідегі балалар оқуларына еріктілер іздейміз. Бізге жазыңыздар!",
        "Ieškome savanorių šeštadienio skaitymams vaikams. Parašykite mums!",
        "We're looking for volunteers for Saturday story time. Write to us!",
    ),
)

# title, description, place, language, registration link
EVENTS = (
    (
        "Встреча с автором",
        "Писательница расскажет о новом романе и ответит на вопросы.",
        "Читальный зал",
        "ru",
        "",
    ),
    (
        "Балаларға арналған ертегі сағаты",
        "3–7 жастағы балаларға қазақ ертегілерін оқимыз.",
        "Балалар бөлімі",
        "kk",
        "",
    ),
    ("Knygų mainų popietė", "Atsineškite perskaitytą knygą ir išsirinkite kitą.", "Fojė", "lt", ""),
    (
        "Board games evening",
        "Classic and new board games for teens and adults.",
        "Hall 2",
        "en",
        "",
    ),
    (
        "Мастер-класс по каллиграфии",
        "Все материалы предоставим, нужна только запись.",
        "Зал 3",
        "ru",
        "https://example.org/calligraphy",
    ),
)

Cell = str | date | time


def template_rows(first_day: date, channels: list[str]) -> list[dict[str, Cell]]:
    """The example plan: a post on each of 30 days from `first_day`, and 5 events."""
    names = ", ".join(channels)
    rows: list[dict[str, Cell]] = []
    for index in range(POSTS):
        day = first_day + timedelta(days=index)
        topic = TOPICS[index % len(TOPICS)]
        row: dict[str, Cell] = {
            "kind": "post",
            "date": day,
            "time": time(10, 0) if index % 2 == 0 else time(17, 30),
            "channels": names,
        }
        if index % 5 == 4:
            # One text per language: each channel gets the variant in its audience's language.
            row["text"] = topic[LANGS.index("en")]
            row.update({f"text_{lang}": text for lang, text in zip(LANGS, topic, strict=True)})
            row["notes"] = "one post, a text for each channel's language"
        else:
            row["text"] = topic[index % len(LANGS)]
        if index % 7 == 3:
            row["link"] = "https://example.org/news"
        rows.append(row)
    for offset, (title, description, place, language, link) in zip(EVENT_DAYS, EVENTS, strict=True):
        day = first_day + timedelta(days=offset)
        announce = day - timedelta(days=7)
        rows.append(
            {
                "kind": "event",
                "date": day,
                "time": time(18, 0),
                "channels": names,
                "title": title,
                "text": description,
                "place": place,
                "ends": time(19, 30),
                "reminders": "1d,2h",
                "announce": f"{announce.isoformat()} 12:00" if announce > first_day else "now",
                "language": language,
                "link": link,
            }
        )
    return rows


def _csv(rows: list[dict[str, Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([_plain(row.get(h, "")) for h in HEADERS])
    # The byte-order mark makes Excel open the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _plain(value: Cell) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _xlsx(rows: list[dict[str, Cell]]) -> bytes:
    # Imported here: openpyxl weighs nearly 20 MB, which every `afisha` command would carry.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "plan"
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.get(h) or None for h in HEADERS])
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, time):
                cell.number_format = "hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    widths = {"date": 12, "time": 8, "channels": 18, "text": 60, "title": 30, "notes": 40}
    for index, header in enumerate(HEADERS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(header, 14)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_template(filename: str, first_day: date, channels: list[str]) -> bytes:
    """The template as .xlsx or .csv, chosen by `filename`'s extension."""
    rows = template_rows(first_day, channels)
    if filename.lower().endswith(".csv"):
        return _csv(rows)
    if filename.lower().endswith(".xlsx"):
        return _xlsx(rows)
    raise InvalidInput("the template is an .xlsx or .csv file: name it plan.xlsx or plan.csv")
