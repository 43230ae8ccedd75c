"""A labelled set for watchlist screening, written for wirewatch: a small list in the three
formats' terms, and sentences that name its entities under the spellings news uses (or are
decoys: a partial name, a namesake word, another person of the same surname). Shared by the
tests and `python -m benchmarks.watchlist`."""

from __future__ import annotations

from wirewatch.records import WatchEntity

LIST = "test-sdn"
ENTITIES = (
    WatchEntity(LIST, "1001", "KIM, Jong Un", "individual"),
    WatchEntity(LIST, "1002", "KIM, Yo Jong", "individual"),
    WatchEntity(LIST, "1003", "NEBENZIA, Vassily Alekseevich", "individual", ("NEBENZIA, Vassily",)),
    WatchEntity(
        LIST,
        "1004",
        "KOREA MINING DEVELOPMENT TRADING CORPORATION",
        "entity",
        ("KOMID",),
        ("Changgwang Sinyong",),
    ),
    WatchEntity(LIST, "1005", "OCEAN STAR", "vessel"),
    WatchEntity(LIST, "1006", "CHOE, Son Hui", "individual"),
    WatchEntity(LIST, "1007", "SHOIGU, Sergei Kuzhugetovich", "individual", ("SHOIGU, Sergey",)),
    WatchEntity(LIST, "1008", "TANGO SHIPPING COMPANY LIMITED", "entity", ("Tango Shipping",)),
    WatchEntity(
        LIST, "1009", "FOREIGN TRADE BANK OF THE DEMOCRATIC PEOPLE'S REPUBLIC OF KOREA", "entity", ("FTB",)
    ),
    WatchEntity(LIST, "1010", "PAK, Jong Chon", "individual"),
)

# (sentence, the entity ids it names)
CASES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (text, frozenset(ids.split()) if ids else frozenset())
    for text, ids in (
        ("Kim Jong Un inspected a missile launch on Tuesday, state media said.", "1001"),
        ("North Korean leader Kim Jong-un met the visiting delegation.", "1001"),
        ("KIM Jong Un was not seen at the parade.", "1001"),
        ("Pyongyang said Kim Jongun had approved the plan.", "1001"),
        ("Photos showed Kim Jong-Un with military officials.", "1001"),
        ("His sister Kim Yo Jong issued a statement.", "1002"),
        ("Kim Yo-jong warned Seoul against leaflets.", "1002"),
        ("Both Kim Jong Un and Kim Yo Jong attended.", "1001 1002"),
        ("Russian envoy Vassily Nebenzia vetoed the resolution.", "1003"),
        ("Ambassador Vasily Nebenzya told the council the panel was biased.", "1003"),
        ("Vassily Alekseevich Nebenzia spoke for Russia.", "1003"),
        ("Nebenzia Vassily signed the letter.", "1003"),
        ("The Korea Mining Development Trading Corporation shipped the parts.", "1004"),
        ("Investigators traced payments to Korea Mining Development Trading.", "1004"),
        ("KOMID, the Korea Mining Development Trading Corporation, is the main arms exporter.", "1004"),
        ("The vessel Ocean Star was seen transferring oil off Nampo.", "1005"),
        ("Satellite images show the tanker Ocean Star beside a North Korean ship.", "1005"),
        ("Foreign Minister Choe Son Hui travelled to Moscow.", "1006"),
        ("Choe Son-hui met Sergei Lavrov.", "1006"),
        ("Sergei Shoigu visited Pyongyang in July.", "1007"),
        ("Russia's Sergey Shoygu toured the factory.", "1007"),
        ("Defence chief Sergei Kuzhugetovich Shoigu arrived.", "1007"),
        ("Tango Shipping Company Limited owned the tanker.", "1008"),
        ("The tanker belonged to Tango Shipping, records show.", "1008"),
        ("Funds moved through the Foreign Trade Bank of the Democratic People's Republic of Korea.", "1009"),
        ("The Foreign Trade Bank of the Democratic People’s Republic of Korea (FTB) handled it.", "1009"),
        ("Pak Jong Chon, a senior official, attended.", "1010"),
        ("Pak Jong-chon oversaw the test.", "1010"),
        ("金正恩 aside, Kim Jong Un's speech was long.", "1001"),
        ("KIM JONG UN ORDERS MORE LAUNCHES", "1001"),
        ("Kim Jong Un’s sister, Kim Yo Jong, spoke later.", "1001 1002"),
        # Decoys: a partial name, a surname alone, namesakes, common words, another person.
        ("Kim said the talks would resume.", ""),
        ("Kim Jong Il, the late leader, was mentioned.", ""),
        ("Kim Yong Chol led the delegation.", ""),
        ("Jong Un Park, a student in Seoul, won the prize.", ""),
        ("The Ocean Star hotel in Busan reopened.", ""),
        ("An ocean star is another name for a sea star.", ""),
        ("KOMID was mentioned in an unrelated acronym list.", ""),
        ("Changgwang Sinyong is a weak alias on its own.", ""),
        ("FTB rules changed for football clubs.", ""),
        ("The foreign trade bank of Iran raised rates.", ""),
        ("Sergei Lavrov met the minister.", ""),
        ("Shoigu said nothing further.", ""),
        ("Choe Ryong Hae was promoted.", ""),
        ("Tango lessons are popular in Buenos Aires.", ""),
        ("Shipping company limited its routes.", ""),
        ("Pak said the plan was ready.", ""),
        ("The Korea Mining Company opened a new pit.", ""),
        ("Vassily Kandinsky painted in Munich.", ""),
        ("A deputy of the envoy, Dmitry Polyanskiy, spoke.", ""),
        ("Kim Jong-nam was killed in Kuala Lumpur in 2017.", ""),
    )
)
