"""Write planted_identifiers.jsonl: social-care sentences with planted personal details, labelled.

    python tests/deidentify/make_planted_identifiers.py

Each record is ``{"id", "split", "text", "spans": [{"start", "end", "label"}]}``; ``split`` is
"dev" (tuned on) or "heldout" (measured only), or "fresh" (written after the tuning was done, measured
once), or "lowercase" (hand-written sentences in lower or upper case and odd forms: the misses an
acceptance run found and more of each kind, written before the rules for them were tuned). The dev
and held-out splits share no sentence template and no filler value, so a rule tuned to the dev half
gets no help from having seen held-out strings. Clean sentences (tricky non-identifiers, no spans)
are split the same way; "lowercase" has clean sentences of its own. Fixed seed: the file is the
same on every run.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

OUT = Path(__file__).with_name("planted_identifiers.jsonl")
SLOT = re.compile(r"\{(\w+)\}")


def nhs(nine: str) -> str:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True)) % 11
    check = 11 - total
    return nine + ("0" if check == 11 else str(check)) if check != 10 else ""


def nhs_numbers(seed: int, forms: list[str]) -> list[str]:
    rng, found = random.Random(seed), []
    while len(found) < len(forms):
        number = nhs(f"{rng.randrange(400000000, 999999999):09d}")
        if number:
            n = number
            found.append(forms[len(found)].format(a=n[:3], b=n[3:6], c=n[6:]))
    return found


FIRST = {
    "dev": ["Tariq", "Aoife", "Sarah", "Grace", "Chidi", "Priya", "Kev", "Siobhan", "Mohammed", "Zofia",
            "Dafydd", "Femi", "Lorna", "Bartosz", "Niamh", "Kwame", "Yasmin", "Eilidh", "Tunde", "Daniel"],
    "fresh": ["Tomasz", "Bisi", "Leanne", "Gurdeep", "Hyacinth", "Euan", "Roksana", "Anwen", "Delroy",
              "Magdalena", "Keisha", "Dónal", "Parveen", "Olusegun", "Kerry-Ann", "Thabo"],
    "heldout": ["Ngozi", "Imran", "Caoimhe", "Marek", "Rhiannon", "Kofi", "Ayesha", "Declan", "Agnieszka",
                "Oluwaseun", "Mei", "Hamza", "Bronwen", "Seamus", "Shanice", "Deepak", "Hiroshi", "Fatima",
                "Callum", "Ioana"],
}  # fmt: skip
SURNAME = {
    "dev": ["Okonkwo", "Jones", "Patel", "Kowalski", "Murphy", "Begum", "Campbell", "Evans", "Nguyen", "Mensah"],
    "fresh": ["Nowak", "Balogun", "Sandhu", "McAllister", "Ferguson", "Achterberg", "Mahmood", "Rees"],
    "heldout": ["Adeyemi", "Hussain", "O'Sullivan", "Wiśniewski", "Thompson", "Ferreira", "MacLeod",
                "Chowdhury", "Price", "Osei"],
}  # fmt: skip
TITLES = ["Mrs", "Mr", "Dr", "Ms"]
POOLS: dict[str, dict[str, list[str]]] = {
    "town": {
        "fresh": ["Morecambe", "Pontypridd", "Kirkcaldy", "Newry", "Otley", "Bideford", "Mirfield", "Accra", "Penzance", "Motherwell"],
        "dev": ["Rotherham", "Wakefield", "Swansea", "Dundee", "Barnsley", "Reading", "Bath", "Grimsby",
                "Hebden Bridge", "Ashton-under-Lyne", "Krakow", "Lagos", "Huddersfield", "Inverness"],
        "heldout": ["Doncaster", "Halifax", "Wrexham", "Paisley", "Stoke-on-Trent", "Hull", "Carlisle",
                    "Llanelli", "Skegness", "Todmorden", "Warsaw", "Karachi", "Keighley", "Omagh"],
    },
    "council": {
        "fresh": ["Sefton Council", "Powys County Council", "North Lanarkshire Council", "Mid Ulster District Council", "London Borough of Tower Hamlets", "Stockport council"],
        "dev": ["Kirklees Council", "Leeds City Council", "Sheffield council", "London Borough of Hackney",
                "Norfolk County Council", "Cardiff Council", "Fife Council", "Belfast City Council",
                "Wirral Council", "Calderdale Council"],
        "heldout": ["Bradford Council", "Lambeth Council", "Royal Borough of Greenwich",
                    "Lancashire County Council", "Rhondda Cynon Taf council", "Glasgow City Council",
                    "Derry City and Strabane District Council", "Tameside Council", "Brent council",
                    "Durham County Council"],
    },
    "care_home": {
        "fresh": ["Primrose Lodge", "Abbeyfield House", "Brookside Care Home", "Greenacres Nursing Home"],
        "dev": ["Willow Lodge", "Beech House", "Oakfield Care Home", "The Laurels Nursing Home",
                "Ashgrove Residential Home", "Highfield Manor"],
        "heldout": ["Meadowbank House", "Elm Tree Lodge", "Hillcrest Care Home", "Sunnyside Nursing Home",
                    "Cedar Grange", "Fairview Residential Home"],
    },
    "hospital": {
        "fresh": ["Dewsbury District Hospital", "St Thomas' Hospital", "Ninewells Hospital", "Royal Gwent Hospital"],
        "dev": ["St James's Hospital", "Northern General Hospital", "Pinderfields Hospital",
                "Leeds General Infirmary", "Airedale Hospital", "St Luke's Hospice"],
        "heldout": ["St Mary's Hospital", "Royal Hallamshire Hospital", "Wythenshawe Hospital",
                    "Glasgow Royal Infirmary", "St Gemma's Hospice", "Calderdale Royal Hospital"],
    },
    "organisation": {
        "fresh": ["Age UK Sefton", "Oldham Carers Centre", "Meadow Lane Day Centre", "Pennine Care NHS Foundation Trust"],
        "dev": ["Leeds Mind", "Age UK Calderdale", "Oakwood Day Centre",
                "South West Yorkshire Partnership NHS Foundation Trust", "Kirkgate Medical Centre",
                "Bramley Carers Centre"],
        "heldout": ["Age UK Wakefield", "Barnsley Mind", "Riverside Day Centre", "Leeds Teaching Hospitals NHS Trust",
                    "Park Lane Surgery", "Hillside Resource Centre"],
    },
    "address": {
        "fresh": ["27 Hawthorn Avenue", "Flat 4, 19 Albert Street", "3 Orchard Close"],
        "dev": ["14 Elm Grove", "Flat 3, 22 Mill Road", "7 Canal Street", "109 Victoria Avenue", "2 Church Lane"],
        "heldout": ["31 Station Road", "Flat 12, 5 Heather Close", "48 Queens Drive", "9a Park Terrace",
                    "66 Mill Lane"],
    },
    "postcode": {
        "fresh": ["OL1 3BQ", "NP20 4SZ", "KY1 1XW"],
        "dev": ["LS6 2AB", "S10 2TN", "HX1 5QQ", "CF10 1EP", "BD7 1DP", "ls6 2ab"],
        "heldout": ["WF1 2DA", "M14 5RX", "SW9 8EJ", "G12 8QQ", "EH6 7BD", "HD1 3LS"],
    },
    "phone": {
        "fresh": ["07700 900987", "0151 496 0456", "+44 7700 900111"],
        "dev": ["07700 900123", "0113 496 0000", "+44 7700 900456", "(0114) 496 0123", "07700900789"],
        "heldout": ["0161 496 0210", "07700 900 321", "+44 (0)20 7946 0000", "01484 496123", "07700-900-654"],
    },
    "email": {
        "fresh": ["d.nowak@example.com", "keisha at example dot org", "gurdeep(at)example(dot)co(dot)uk"],
        "dev": ["jane.smith@example.com", "kev_b@example.org", "jane at example dot com",
                "sarah dot jones at gmail dot com"],
        "heldout": ["priya@example.co.uk", "tom(at)example(dot)org", "mike at hotmail dot co dot uk",
                    "a.hussain [at] example [dot] com"],
    },
    "nhs_number": {
        "fresh": nhs_numbers(3, ["{a} {b} {c}", "{a}{b}{c}", "{a}-{b}-{c}"]),
        "dev": nhs_numbers(1, ["{a} {b} {c}", "{a}{b}{c}", "{a}-{b}-{c}", "{a} {b} {c}"]),
        "heldout": nhs_numbers(2, ["{a}{b}{c}", "{a} {b} {c}", "{a}-{b}-{c}", "{a}{b}{c}"]),
    },
    "ni_number": {
        "fresh": ["JT 11 22 33 B", "RE445566C"],
        "dev": ["QQ 12 34 56 C", "AB123456D", "JN 45 67 89 A"],
        "heldout": ["PT 98 76 54 B", "SK334455A", "WM 10 20 30 D"],
    },
    "date": {
        "fresh": ["9/4/51", "12.10.1946", "4th Jan '49", "March 3rd, 1950"],
        "dev": ["5.6.47", "05/06/1947", "5th June '47", "12 March 1952", "14/02/39", "1947-06-05"],
        "heldout": ["3.11.52", "21/09/1961", "2nd Feb '38", "June 5th, 1947", "7-8-44", "30th of April 1950"],
    },
    "url": {
        "fresh": ["https://www.facebook.com/groups/carersofsefton", "www.justgiving.com/dadsramp"],
        "dev": ["https://www.facebook.com/kev.brown.77", "www.justgiving.com/sarahsstory",
                "https://example.org/my-story"],
        "heldout": ["http://instagram.com/priya_p", "www.gofundme.com/f/help-for-dad", "https://bit.ly/3xYz12"],
    },
    "handle": {
        "fresh": ["@sefton_carer", "@mumtotwo_ot"],
        "dev": ["@carer_kev", "@SarahJ_1982", "@mumofthree"],
        "heldout": ["@priya_cares", "@dad_and_me", "@wheelie_kate"],
    },
}  # fmt: skip
LABEL = {"first": "name", "first_lower": "name", "full": "name", "full_upper": "name", "titled": "name"}
LABEL |= {"town": "place"} | {k: k for k in POOLS if k != "town"}

TEMPLATES = {
    # Written after the detector was tuned, and measured once, untouched by any tuning.
    "fresh": [
        "Honestly {first} is the best carer we've had, she just gets Mum.",
        "We had {full} as our social worker for two years and then she left.",
        "i rang {first_lower} and she said she'd pop round after tea.",
        "THE ASSESSOR WAS {full_upper} AND SHE NEVER EVEN LOOKED AT ME.",
        "{titled} said there was nothing more they could do.",
        "Dad's from {town} originally, he came over in the sixties.",
        "There's nothing for young carers round {town}, nothing at all.",
        "{council} keeps losing my paperwork.",
        "I complained to {council} and to the ombudsman.",
        "Nan's in {care_home} now and she seems settled.",
        "They moved him out of {hospital} to a home forty miles away.",
        "Ask at {organisation}, they know about grants.",
        "The address is {address}, {postcode}.",
        "Ring {phone} and ask for {first}.",
        "You can email {email} or phone {phone}.",
        "His NHS number, {nhs_number}, is on every letter.",
        "NI number {ni_number}, date of birth {date}.",
        "My fundraiser is at {url} and I'm {handle} on Instagram.",
    ],
    "dev": [
        "{first} came round on Tuesday and sorted my tablets out.",
        "My social worker is {full} and she's been brilliant, honestly.",
        "{first}, my daughter, does the shopping now.",
        "me and {first_lower} went down the shops and it was the first time in months.",
        "The letter was signed {full_upper} from the reablement team.",
        "I told {titled} that I couldn't manage the stairs any more.",
        "We moved to {town} when Dad got ill, to be near my sister.",
        "I grew up in {town} and I still miss it.",
        "{council} cut my hours from twenty to twelve without a review.",
        "I rang {council} four times and nobody called back.",
        "Mum went into {care_home} in {town} after the fall.",
        "The staff at {care_home} were kind but they were run off their feet.",
        "She was in {hospital} for six weeks and then they discharged her at night.",
        "They sent me to {hospital} for the assessment.",
        "I go to {organisation} on a Thursday, it's the only time I get out.",
        "Someone from {organisation} helped me fill in the forms.",
        "You can write to me at {address}, {town} {postcode}.",
        "I live at {address} now, the ground floor one.",
        "Ring me on {phone} if you need anything.",
        "My mobile is {phone} but the signal's bad.",
        "Email me on {email} and I'll send you the letters.",
        "Her NHS number is {nhs_number}, it's on the form.",
        "My National Insurance number is {ni_number}.",
        "He was born {date} and he's never lived anywhere else.",
        "DOB {date}, it says on the care plan.",
        "I put the whole story on {url} so people would know.",
        "Follow me at {handle}, I post about being a carer.",
        "{first} from {council} said there's no money for respite.",
        "When {first} left, the agency sent someone new every day.",
        "My PA {first} takes me to {organisation} on Mondays.",
    ],
    "heldout": [
        "{first} is my carer and she's the only one who listens.",
        "The new manager, {full}, wants to change everything.",
        "{first_lower} said she'd sort it but she never did.",
        "IT WAS {full_upper} WHO SIGNED IT OFF, I'VE GOT THE LETTER.",
        "Then {titled} rang to say the package was under review.",
        "I've lived in {town} all my life, born and bred.",
        "The bus to {town} takes an hour and a half now.",
        "I wrote to {council} and got a letter back six weeks later.",
        "Apparently {council} has a waiting list of two hundred.",
        "Dad's been at {care_home} since March and he hates the food.",
        "We looked round {care_home} but it smelt of bleach.",
        "They kept him in {hospital} over Christmas.",
        "The physio at {hospital} was the first person to explain it.",
        "The woman at {organisation} told me about Carer's Allowance.",
        "I got a leaflet from {organisation} but nobody rang me.",
        "Send it to {address}, {postcode}, that's Mum's.",
        "It's {address}, the one with the green door.",
        "My landline is {phone}, don't use the old one.",
        "Text {phone} and she'll get back to you.",
        "My email is {email} if that's easier.",
        "The nurse wrote his NHS number, {nhs_number}, on the back of my hand.",
        "They wanted my NI number, {ni_number}, before they'd even talk to me.",
        "Mum's date of birth is {date} and they still got it wrong.",
        "She was born on {date}, the week the war ended or near enough.",
        "There's a fundraiser at {url} for the ramp.",
        "I'm {handle} on Twitter if you want to see the pictures.",
        "{first} and {first} do the nights between them.",
        "Our social worker {full} moved to {council} last year.",
        "If {first} is off sick, nobody comes at all.",
        "{titled} at {hospital} said it was a care need, not a health need.",
    ],
}
CLEAN = [
    "Making It Real was supposed to change how the council talks to us.",
    "The Care Act says they have to assess you, but it took a year.",
    "Direct Payments gave me back some control over my week.",
    "Social Services came once and never came back.",
    "Universal Credit stopped when I went into hospital.",
    "Hope is a big word, but I still have some.",
    "I live in hope that one day it'll be sorted.",
    "In March they said the review would be in May.",
    "The council said no, then the council said maybe.",
    "My social worker changed three times in a year.",
    "The care manager wasn't at the meeting.",
    "Personal Health Budgets are meant to be for people like me.",
    "Will they listen this time? I doubt it.",
    "Grace and favour, that's how the support felt.",
    "Mark my words, it'll get worse before it gets better.",
    "The Local Government Ombudsman upheld my complaint.",
    "We went to the day centre until it shut after Covid.",
    "Carers UK have a helpline and it helped.",
    "The Alzheimer's Society sent me a booklet.",
    "Reading the care plan made me cry.",
    "Bath time is the hardest part of the day.",
    "NHS Continuing Healthcare turned us down twice.",
    "The CQC report said the home required improvement.",
    "ADASS and TLAP wrote another report about personalisation.",
    "Section 117 aftercare should be free, so why the bill?",
    "I get Attendance Allowance and Pension Credit now.",
    "The occupational therapist said we needed a hoist.",
    "My GP referred me to the memory clinic.",
    "Mental Health Act assessments are frightening.",
    "Deprivation of Liberty Safeguards were mentioned at the review.",
    "The Independent Living Fund closed in 2015.",
    "Christmas was quiet this year. Easter too.",
    "On Monday the agency sent nobody.",
    "June was the worst month, everything went wrong.",
    "The reablement team came for six weeks.",
    "Street lighting on our road is terrible at night.",
    "Deal with it, they said, as if I hadn't been.",
    "Sale prices don't help when you've no money at all.",
    "Ash from the fire got everywhere.",
    "The district nurse comes on Tuesdays and Fridays.",
    "Our key worker retired last spring.",
    "It costs £17.50 an hour for twenty hours a week.",
    "I waited 18 months and 3 days for the ramp.",
    "The Disability Living Allowance forms run to forty pages.",
    "Personal Independence Payment assessments are a lottery.",
    "Shared Lives placements work well for some people.",
    "The Better Care Fund is meant to join things up.",
    "Healthwatch asked us to fill in a survey.",
    "We need Think Local Act Personal more than ever.",
    "Ordinary Residence rules meant nobody would pay.",
    "Joy is having a bath without rushing.",
    "I said to the team manager, this isn't good enough.",
    "The Court of Protection took two years to decide.",
    "Best Interests meetings happen without us.",
    "We asked for a Carer's Assessment in April.",
    "My support plan mentions bowling on Wednesdays.",
    "Version 2.1 of the form came out on the 3rd.",
    "The Equality Act should have protected me.",
    "Motability gave us a car at last.",
    "The Royal College of Nursing backed the nurses.",
    "The Jobcentre wanted a fit note every month.",
    "Local Offer pages are always out of date.",
    "I rang 111 and then 999 in the end.",
    "Social Care Wales published a new code.",
]


# Written by hand, each identifier marked «label:value», before the rules for these forms were tuned.
LOWERCASE = [
    # the misses of the acceptance run (tests/cli/test_issue10_acceptance.py)
    "now i live in «place:st helens» with my son.",
    "«council:sheffield city council» cut my package.",
    "I stayed at «care_home:oakfield house care home» for a month.",
    "Then «care_home:THE LIMES NURSING HOME» took me in.",
    "My neighbour in «place:Kirkby-in-Ashfield» helps me.",
    "my neighbour «name:mr patel» helps me.",
    "we moved to «place:milton keynes» last year.",
    "I was in «hospital:rotherham general hospital» for weeks.",
    "the «council:london borough of hackney» wrote to me.",
    # more of each kind
    "mum grew up in «place:hebden bridge» and never left.",
    "we used to live near «place:newcastle upon tyne» before the move.",
    "the bus from «place:stoke-on-trent» never turns up.",
    "She was born in «place:Sutton-in-Ashfield» and moved away at twenty.",
    "He lives in «place:Barrow-in-Furness» now, near his brother.",
    "my sister is in «place:west bromwich» so she can't help much.",
    "MY DAD STILL LIVES IN «place:HEMEL HEMPSTEAD» ON HIS OWN.",
    "i rang «council:leeds city council» three times last week.",
    "«council:kirklees council» sent someone round in the end.",
    "we complained to the «council:royal borough of greenwich» about the carers.",
    "«council:BRADFORD COUNCIL» NEVER ANSWER THE PHONE.",
    "the letter came from «council:london borough of tower hamlets» in june.",
    "«council:glasgow city council» said there was a waiting list.",
    "dad went into «care_home:willow lodge care home» after the fall.",
    "the staff at «care_home:beech house nursing home» were lovely.",
    "we looked round «care_home:highfield residential home» but it was full.",
    "Nan moved to «care_home:THE ELMS CARE HOME» in the spring.",
    "he was in «hospital:pinderfields hospital» over christmas.",
    "they sent her to «hospital:leeds general infirmary» in the ambulance.",
    "the physio at «hospital:northern general hospital» was brilliant.",
    "HE WAS IN «hospital:ST JAMES'S HOSPITAL» FOR SIX WEEKS.",
    "«name:mrs okafor» from the agency came on monday.",
    "i told «name:dr singh» about the falls.",
    "«name:MR JONES» SAID IT WAS OUT OF HIS HANDS.",
    "our old neighbour «name:mrs begum» brings us soup.",
    "i asked «name:ms kowalski» to check the care plan.",
    "someone from «organisation:age uk calderdale» helped with the forms.",
    "i go to «organisation:oakwood day centre» on thursdays.",
    "WE WENT TO «organisation:RIVERSIDE DAY CENTRE» EVERY WEEK.",
]
# Clean sentences in the same odd case: care words, titles and councils that name nobody.
LOWERCASE_CLEAN = [
    "the city council said no to everything.",
    "she went into a care home in the end.",
    "the nursing home was lovely but too far away.",
    "the general hospital car park costs a fortune.",
    "i hated care home food more than anything.",
    "the local hospital is always full on a friday.",
    "my mum's care home has a new manager.",
    "THE CARE HOME RANG AT MIDNIGHT.",
    "the dr said to come back in a month.",
    "i've got a dr appointment on tuesday.",
    "the county council and the nhs argue about who pays.",
    "we went to the day centre until it shut.",
    "the west end of town has no buses.",
    "a new care home opened near us.",
]
MARK = re.compile(r"«(\w+):([^»]+)»")


def marked(sentence: str) -> tuple[str, list[dict[str, object]]]:
    """The sentence without its «label:value» marks, and the marked spans."""
    text, spans, position = "", [], 0
    for match in MARK.finditer(sentence):
        text += sentence[position : match.start()]
        spans.append({"start": len(text), "end": len(text) + len(match.group(2)), "label": match.group(1)})
        text += match.group(2)
        position = match.end()
    return text + sentence[position:], spans


def fill(template: str, split: str, rng: random.Random) -> tuple[str, list[dict[str, object]]]:
    text, spans, position = "", [], 0
    for match in SLOT.finditer(template):
        slot = match.group(1)
        first, surname = rng.choice(FIRST[split]), rng.choice(SURNAME[split])
        value = {
            "first": first,
            "first_lower": first.lower(),
            "full": f"{first} {surname}",
            "full_upper": f"{first} {surname}".upper(),
            "titled": f"{rng.choice(TITLES)} {surname}",
        }.get(slot) or rng.choice(POOLS[slot][split])
        text += template[position : match.start()]
        spans.append({"start": len(text), "end": len(text) + len(value), "label": LABEL[slot]})
        text += value
        position = match.end()
    return text + template[position:], spans


def records() -> list[dict[str, object]]:
    rng, found = random.Random(20261202), []
    for split in ("dev", "heldout", "fresh"):
        for number, template in enumerate(TEMPLATES[split]):
            for variant in range(6):
                text, spans = fill(template, split, rng)
                found.append(
                    {"id": f"{split}-{number}-{variant}", "split": split, "text": text, "spans": spans}
                )
    for number, sentence in enumerate(CLEAN):
        split = "dev" if number % 2 == 0 else "heldout"
        found.append({"id": f"clean-{number}", "split": split, "text": sentence, "spans": []})
    for number, sentence in enumerate(LOWERCASE + LOWERCASE_CLEAN):
        text, spans = marked(sentence)
        found.append({"id": f"lowercase-{number}", "split": "lowercase", "text": text, "spans": spans})
    return found


def main() -> None:
    rows = records()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    planted = sum(len(r["spans"]) for r in rows)  # type: ignore[arg-type]
    print(f"{len(rows)} records, {planted} planted identifiers -> {OUT}")


if __name__ == "__main__":
    main()
